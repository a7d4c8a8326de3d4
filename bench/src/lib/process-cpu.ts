import { readdirSync, readFileSync } from 'node:fs';
import { cpuTimeMs } from '@repo/testing';

/** Linux only: the pids of every process whose command line matches, e.g. /^postgres/. */
export function pidsMatching(pattern: RegExp): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const commandLine = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (pattern.test(commandLine)) pids.push(Number(entry));
    } catch {
      // the process ended while the list was read
    }
  }
  return pids;
}

/** Named groups of processes, each found anew when measured (PostgreSQL opens backends as it goes). */
export type ProcessGroups = Record<string, () => readonly (number | undefined)[]>;

type Snapshot = Map<number, number>;

function snapshot(groups: ProcessGroups): Record<string, Snapshot> {
  return Object.fromEntries(
    Object.entries(groups).map(([name, pids]) => {
      const times: Snapshot = new Map();
      for (const pid of pids()) {
        const ms = cpuTimeMs(pid);
        if (pid !== undefined && ms !== null) times.set(pid, ms);
      }
      return [name, times];
    }),
  );
}

/**
 * CPU time (user + system, from /proc) each group of processes spent while `run` ran, in ms. A
 * process that starts during the run counts from zero; one that ends during it is missed, so
 * measure processes that outlive the run.
 */
export async function measureCpu<T>(
  groups: ProcessGroups,
  run: () => Promise<T>,
): Promise<{ result: T; cpuMs: Record<string, number> }> {
  const before = snapshot(groups);
  const result = await run();
  const after = snapshot(groups);
  const cpuMs: Record<string, number> = {};
  for (const [name, times] of Object.entries(after)) {
    let total = 0;
    for (const [pid, ms] of times) total += ms - (before[name]?.get(pid) ?? 0);
    cpuMs[name] = total;
  }
  return { result, cpuMs };
}

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { processCoverageDir, TEST_COVERAGE_DIR } from './coverage-paths.ts';
import { COVERAGE_WRITE_DEADLINE_MS, READY_DEADLINE_MS } from './deadlines.ts';

export interface ServiceProcess {
  child: ChildProcess;
  /** Parsed JSON log lines so far (LOG_FORMAT=json). */
  logs(): Record<string, unknown>[];
  stdout(): string;
  stderr(): string;
  waitForLog(
    predicate: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** Polls `url` until it answers 200. */
  waitForHttp(url: string, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number | null>;
  /** Sends `signal` and waits for the exit; SIGKILLs after `timeoutMs`. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

export interface ServiceProcessOptions {
  /**
   * Node's options before the entry. Default `['--conditions=development']`: TypeScript sources
   * and the workspace packages' development exports. Pass `[]` to run a built `dist/main.js` as
   * production does (plus e.g. `--cpu-prof` to profile it).
   */
  nodeArgs?: readonly string[];
  /** Arguments after the entry. */
  args?: readonly string[];
  cwd?: string;
  /**
   * Its own process group, as turbo runs each task: signal the group with
   * `process.kill(-child.pid, signal)`; clean-up kills the whole group.
   */
  processGroup?: boolean;
}

/**
 * Every process started here that is still running, and whether it was started inside a test
 * (rather than in a beforeAll). The kinds config's setup file (vitest-setup.ts) kills those of a
 * test when it ends and the rest when the file ends, passed or failed, so a test that times out
 * or throws before its own clean-up leaves nothing running.
 */
const running = new Map<ChildProcess, { startedInTest: boolean; processGroup: boolean }>();
let inTest = false;

async function kill(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exit = once(child, 'exit');
      if (process.env[TEST_COVERAGE_DIR]) {
        // a killed process writes no coverage: a coverage run asks it to stop first
        child.kill('SIGTERM');
        const timer = setTimeout(() => killProcess(child), COVERAGE_WRITE_DEADLINE_MS);
        await exit;
        clearTimeout(timer);
        return;
      }
      killProcess(child);
      await exit;
    }),
  );
}

function killProcess(child: ChildProcess): void {
  const group = running.get(child)?.processGroup;
  if (group && child.pid !== undefined) {
    try {
      process.kill(-child.pid, 'SIGKILL');
      return;
    } catch {
      // the group is gone already; the child itself may not be
    }
  }
  child.kill('SIGKILL');
}

/** Hooks for vitest-setup.ts: when a test starts and ends, and when its file ends. */
export const serviceProcessLifetimes = {
  testStarted(): void {
    inTest = true;
  },
  async testEnded(): Promise<void> {
    inTest = false;
    await kill([...running].filter(([, how]) => how.startedInTest).map(([child]) => child));
  },
  async fileEnded(): Promise<void> {
    await kill([...running.keys()]);
  },
  /** How many started processes are still running (for the helper's own tests). */
  count(): number {
    return running.size;
  },
};

// the test worker itself may be ended (a timed-out run, Ctrl-C): take the children along
process.once('exit', () => {
  for (const child of running.keys()) killProcess(child);
});

/**
 * In a coverage run (tooling/coverage) every process started here writes its V8 coverage when
 * it exits, for the run to merge with the tests' own.
 */
function childCoverage(): Record<string, string> {
  const coverageDir = process.env[TEST_COVERAGE_DIR];
  return coverageDir ? { NODE_V8_COVERAGE: processCoverageDir(coverageDir) } : {};
}

/**
 * Runs an app entry point (by default its TypeScript source, Node's type stripping, development
 * exports) as a real process with exactly the environment given plus PATH, and JSON logs to read
 * back. A variable given as undefined is left out (e.g. `NODE_ENV: undefined` to start without it).
 */
export function startServiceProcess(
  entry: string,
  env: Record<string, string | undefined>,
  options: ServiceProcessOptions = {},
): ServiceProcess {
  const nodeArgs = options.nodeArgs ?? ['--conditions=development'];
  const child = spawn(process.execPath, [...nodeArgs, entry, ...(options.args ?? [])], {
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
      ...childCoverage(),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.processGroup ?? false,
  });
  running.set(child, { startedInTest: inTest, processGroup: options.processGroup ?? false });
  child.once('exit', () => running.delete(child));
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  // 'close', not 'exit': the last of its output may still be arriving when the process has exited
  const exited = once(child, 'close').then(([code]) => code as number | null);

  // only complete lines: the last one may still be arriving when a busy process is read
  const logs = () =>
    stdout
      .slice(0, stdout.lastIndexOf('\n') + 1)
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  const describeFailure = (what: string) =>
    new Error(
      `${what}\n--- stderr ---\n${stderr.slice(-4_000)}\n--- logs ---\n${stdout.slice(-4_000)}`,
    );

  return {
    child,
    logs,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    async waitForLog(predicate, timeoutMs = READY_DEADLINE_MS) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const line = logs().find(predicate);
        if (line) return line;
        if (child.exitCode !== null) throw describeFailure(`process exited with ${child.exitCode}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw describeFailure(`no matching log line within ${timeoutMs} ms`);
    },
    async waitForHttp(url, timeoutMs = READY_DEADLINE_MS) {
      const deadline = Date.now() + timeoutMs;
      let last = 'no answer';
      while (Date.now() < deadline) {
        if (child.exitCode !== null) throw describeFailure(`process exited with ${child.exitCode}`);
        try {
          const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
          if (response.status === 200) return;
          last = `${response.status}`;
        } catch (error) {
          last = String(error);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw describeFailure(`${url} did not answer 200 within ${timeoutMs} ms (last: ${last})`);
    },
    async stop(signal = 'SIGTERM', timeoutMs = READY_DEADLINE_MS) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill(signal);
      const timer = setTimeout(() => killProcess(child), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

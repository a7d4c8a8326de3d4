import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { parseJobPayload } from './payloads.ts';
import { type JobQueue, jobOptions } from './queue.ts';
import type { JobPayload, JobType } from './registry.ts';

export type ScheduleDeclaration<T extends JobType = JobType> = {
  /** Stable id of the BullMQ job scheduler; renaming it replaces the schedule. */
  id: string;
  type: T;
  payload: JobPayload<T>;
  /** IANA time zone the cron pattern is read in. */
  tz?: string;
} & ({ pattern: string; every?: never } | { every: number; pattern?: never });

export function defineSchedule<T extends JobType>(declaration: ScheduleDeclaration<T>) {
  return declaration;
}

export interface ScheduleSyncResult {
  upserted: string[];
  removed: string[];
}

export interface SyncSchedulesOptions {
  /** Connection for the lock; the queue's own connection works. */
  redis: Redis;
  prefix: string;
  /** How long one sync may hold the lock; a crashed holder releases it after this. */
  lockTtlMs?: number;
  /** How long to wait for another replica's sync to finish. */
  waitMs?: number;
}

/**
 * Makes the queue's job schedulers exactly the declared ones: upserts each declaration and
 * removes schedulers nobody declares any more. Replicas serialize on a Redis lock, because
 * concurrent upserts of one scheduler have raced in BullMQ; a replica that finds the lock taken
 * waits its turn and then syncs too, so every replica converges.
 */
export async function syncSchedules(
  queue: JobQueue,
  declarations: readonly ScheduleDeclaration[],
  options: SyncSchedulesOptions,
): Promise<ScheduleSyncResult> {
  const ids = new Set<string>();
  for (const declaration of declarations) {
    if (ids.has(declaration.id)) throw new Error(`schedule "${declaration.id}" is declared twice`);
    ids.add(declaration.id);
    parseJobPayload(declaration.type, declaration.payload);
  }

  return withLock(options, async () => {
    const upserted: string[] = [];
    for (const d of declarations) {
      await queue.upsertJobScheduler(
        d.id,
        d.pattern === undefined ? { every: d.every } : { pattern: d.pattern, tz: d.tz ?? 'UTC' },
        { name: d.type, data: d.payload, opts: scheduledJobOptions(d.type) },
      );
      upserted.push(d.id);
    }
    const removed: string[] = [];
    for (const scheduler of await queue.getJobSchedulers(0, -1)) {
      const id = scheduler.id ?? scheduler.key;
      if (!ids.has(id) && (await queue.removeJobScheduler(id))) removed.push(id);
    }
    return { upserted, removed };
  });
}

function scheduledJobOptions(type: JobType) {
  const { attempts, backoff, removeOnComplete, removeOnFail } = jobOptions(type);
  return { attempts, backoff, removeOnComplete, removeOnFail };
}

export interface ScheduleInfo {
  id: string;
  type: string;
  pattern: string | null;
  every: number | null;
  tz: string | null;
  nextRunAt: Date | null;
}

export async function listSchedules(queue: JobQueue): Promise<ScheduleInfo[]> {
  const schedulers = await queue.getJobSchedulers(0, -1, true);
  return schedulers.map((s) => ({
    id: s.id ?? s.key,
    type: s.name,
    pattern: s.pattern ?? null,
    every: s.every ?? null,
    tz: s.tz ?? null,
    nextRunAt: s.next === undefined ? null : new Date(s.next),
  }));
}

// A single-Redis lock (SET NX PX + compare-and-delete) is enough here: losing it only means two
// syncs overlap, which is the situation it narrows, not a correctness boundary. Redlock's
// multi-node algorithm would add a dependency for a guarantee this does not need.
const RELEASE_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

async function withLock<T>(options: SyncSchedulesOptions, fn: () => Promise<T>): Promise<T> {
  const { redis, prefix, lockTtlMs = 30_000, waitMs = 60_000 } = options;
  const key = `${prefix}:beat:schedule-sync-lock`;
  const token = randomUUID();
  const deadline = Date.now() + waitMs;
  while ((await redis.set(key, token, 'PX', lockTtlMs, 'NX')) !== 'OK') {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${waitMs} ms waiting for the schedule sync lock ${key}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  try {
    return await fn();
  } finally {
    await redis.eval(RELEASE_SCRIPT, 1, key, token);
  }
}

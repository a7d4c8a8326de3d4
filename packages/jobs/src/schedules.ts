import { createHash, randomUUID } from 'node:crypto';
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
  /** The generation of this declaration set (see syncSchedules). */
  generation: number;
  /** Set when a newer declaration set is running: this sync then changed nothing. */
  supersededBy?: number;
}

export interface ScheduleOwnerOptions {
  /** Connection for the lock and the bookkeeping; the queue's own connection works. */
  redis: Redis;
  prefix: string;
  /** This beat process, the same on every sync it makes (a UUID made at start). */
  instanceId: string;
}

export interface SyncSchedulesOptions extends ScheduleOwnerOptions {
  /**
   * How long after this sync the instance counts as running. Beat syncs again well within it; an
   * instance that died without leaving (SIGKILL) stops counting when it runs out.
   */
  instanceTtlMs: number;
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
 *
 * During a deploy two versions of beat run at once, with different declaration lists, and each
 * would undo the other. So each list (its fingerprint) gets a generation number when it starts
 * running — the first time, or again after every beat holding it had gone — and only the newest
 * generation among the running instances changes anything: an older beat syncs nothing (it
 * neither removes what the newer list added nor brings back what it dropped) until no instance
 * of a newer list is left, say after a rollback. Instances register with each sync, for
 * `instanceTtlMs`, and leave on a graceful stop (`leaveSchedules`).
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
  const schedulers = declarations.map(toScheduler);
  const fingerprint = fingerprintOf(schedulers);

  return withLock(options, async () => {
    const { generation, newest } = await registerInstance(options, fingerprint);
    if (generation < newest) return { upserted: [], removed: [], generation, supersededBy: newest };

    const upserted: string[] = [];
    for (const scheduler of schedulers) {
      await queue.upsertJobScheduler(scheduler.id, scheduler.repeat, scheduler.template);
      upserted.push(scheduler.id);
    }
    const removed: string[] = [];
    for (const scheduler of await queue.getJobSchedulers(0, -1)) {
      const id = scheduler.id ?? scheduler.key;
      if (!ids.has(id) && (await queue.removeJobScheduler(id))) removed.push(id);
    }
    return { upserted, removed, generation };
  });
}

/**
 * A beat that stops gracefully stops counting as a running instance at once, so that an older
 * declaration set still running (a rollback) takes over at its next sync rather than after the
 * TTL.
 */
export async function leaveSchedules(options: ScheduleOwnerOptions): Promise<void> {
  const keys = ownerKeys(options.prefix);
  const members = await options.redis.zrange(keys.instances, '0', '-1');
  const mine = members.filter((member) => instanceOf(member) === options.instanceId);
  if (mine.length > 0) await options.redis.zrem(keys.instances, ...mine);
}

interface SchedulerSpec {
  id: string;
  repeat: { every: number } | { pattern: string; tz: string };
  template: { name: JobType; data: unknown; opts: ReturnType<typeof scheduledJobOptions> };
}

function toScheduler(d: ScheduleDeclaration): SchedulerSpec {
  return {
    id: d.id,
    repeat:
      d.pattern === undefined ? { every: d.every } : { pattern: d.pattern, tz: d.tz ?? 'UTC' },
    template: { name: d.type, data: d.payload, opts: scheduledJobOptions(d.type) },
  };
}

/** Everything a sync writes, so two lists that would write the same schedulers share a fingerprint. */
function fingerprintOf(schedulers: readonly SchedulerSpec[]): string {
  const sorted = [...schedulers].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
}

function ownerKeys(prefix: string) {
  return {
    /** fingerprint → generation, for the declaration sets running now */
    generations: `${prefix}:beat:declaration-generations`,
    /** the last generation handed out */
    counter: `${prefix}:beat:declaration-generation`,
    /** "<fingerprint>:<instanceId>", scored with the time (ms, Redis clock) it stops counting */
    instances: `${prefix}:beat:instances`,
  };
}

// a fingerprint is 64 hex characters, so the first colon ends it
const fingerprintOfMember = (member: string) => member.slice(0, member.indexOf(':'));
const instanceOf = (member: string) => member.slice(member.indexOf(':') + 1);

/** Under the sync lock: records this instance and returns its set's generation and the newest. */
async function registerInstance(
  options: SyncSchedulesOptions,
  fingerprint: string,
): Promise<{ generation: number; newest: number }> {
  const { redis, instanceId, instanceTtlMs } = options;
  const keys = ownerKeys(options.prefix);
  // Redis's clock, not this host's: instances on several hosts compare their expiry times
  const [seconds, micros] = await redis.time();
  const now = Number(seconds) * 1_000 + Math.floor(Number(micros) / 1_000);
  await redis.zremrangebyscore(keys.instances, '-inf', now);
  const running = new Set((await redis.zrange(keys.instances, '0', '-1')).map(fingerprintOfMember));

  // a set none of whose instances is running starts (again) as the newest
  let generation = running.has(fingerprint)
    ? Number(await redis.hget(keys.generations, fingerprint))
    : Number.NaN;
  if (!Number.isInteger(generation)) {
    generation = await redis.incr(keys.counter);
    await redis.hset(keys.generations, fingerprint, generation);
  }
  await redis.zadd(keys.instances, now + instanceTtlMs, `${fingerprint}:${instanceId}`);
  running.add(fingerprint);

  const known = await redis.hgetall(keys.generations);
  const gone = Object.keys(known).filter((f) => !running.has(f));
  if (gone.length > 0) await redis.hdel(keys.generations, ...gone);
  const newest = Math.max(
    ...[...running].map((f) => (f === fingerprint ? generation : Number(known[f] ?? 0))),
  );
  return { generation, newest };
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

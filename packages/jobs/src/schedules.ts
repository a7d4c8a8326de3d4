import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { parseJobPayload, resolveJobType } from './payloads.ts';
import { type JobQueue, jobOptions } from './queue.ts';
import type { JobPayload, JobType } from './registry.ts';
import { checkCron, DEFAULT_SCHEDULE_TIMEZONE } from './schedule-timing.ts';

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

/**
 * A schedule defined at run time (the api's `schedules` table) rather than in code. `revision`
 * orders every definition ever written (one sequence for all keys): beat never applies one older
 * than the last it applied for its key.
 */
export interface DefinedSchedule {
  declaration: ScheduleDeclaration;
  revision: number;
  /** A paused schedule is kept out of Redis until it is resumed. */
  paused: boolean;
}

/** A defined schedule a sync left alone, and why. */
export interface SkippedSchedule {
  id: string;
  reason: 'declared-in-code' | 'invalid' | 'older-than-applied' | 'applied-after-read';
  detail?: string;
}

export interface ScheduleSyncResult {
  upserted: string[];
  removed: string[];
  /** Defined schedules this sync did not apply (or, for `applied-after-read`, did not remove). */
  skipped: SkippedSchedule[];
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
  /**
   * The schedules defined at run time, read while this sync holds the lock (so replicas apply
   * them one after another, each from a fresh read). Without it, only the declarations count.
   */
  loadDefined?: () => Promise<DefinedSchedules>;
}

/** One read of the defined schedules. */
export interface DefinedSchedules {
  schedules: readonly DefinedSchedule[];
  /**
   * Every write (create, change, delete) up to this revision is reflected in `schedules`: the
   * table's revision sequence, read after the rows.
   */
  revision: number;
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
 *
 * Schedules defined at run time (`loadDefined`, the api's table) are applied too: a paused one
 * is removed, one whose id is declared in code is left to the declaration. They are read under
 * the lock, so replicas apply them in turn, each from a fresh read. Should a lock run out mid-sync
 * (a sync slower than `lockTtlMs`), revisions keep a slower replica from undoing a faster one:
 * per id, Redis keeps the revision last applied (and, once removed, a mark just above it), a
 * definition older than that is not applied, and a scheduler applied from a definition newer
 * than anything this read saw is not removed.
 */
export async function syncSchedules(
  queue: JobQueue,
  declarations: readonly ScheduleDeclaration[],
  options: SyncSchedulesOptions,
): Promise<ScheduleSyncResult> {
  const declaredIds = new Set<string>();
  for (const declaration of declarations) {
    if (declaredIds.has(declaration.id)) {
      throw new Error(`schedule "${declaration.id}" is declared twice`);
    }
    declaredIds.add(declaration.id);
    parseJobPayload(declaration.type, declaration.payload);
  }
  const schedulers = declarations.map(toScheduler);
  const fingerprint = fingerprintOf(schedulers, options.loadDefined !== undefined);

  return withLock(options, async () => {
    const { generation, newest } = await registerInstance(options, fingerprint);
    if (generation < newest) {
      return { upserted: [], removed: [], skipped: [], generation, supersededBy: newest };
    }

    const { schedules: defined, revision: readRevision } = (await options.loadDefined?.()) ?? {
      schedules: [],
      revision: 0,
    };
    const applied = await readAppliedRevisions(options);
    const skipped: SkippedSchedule[] = [];
    const keep = new Set(declaredIds);
    const definedUpserts: { scheduler: SchedulerSpec; revision: number }[] = [];
    const pausedRevisions: [string, number][] = [];
    for (const { declaration, revision, paused } of defined) {
      const id = declaration.id;
      if (declaredIds.has(id)) {
        skipped.push({ id, reason: 'declared-in-code' });
        continue;
      }
      const appliedRevision = applied.get(id) ?? 0;
      if (revision < appliedRevision) {
        keep.add(id);
        skipped.push({ id, reason: 'older-than-applied' });
        continue;
      }
      if (paused) {
        pausedRevisions.push([id, revision]);
        continue;
      }
      try {
        parseJobPayload(resolveJobType(declaration.type), declaration.payload);
        checkTiming(declaration);
      } catch (error) {
        // a type removed from the code, or a payload its schema no longer accepts: this schedule
        // stays out of Redis, the others are applied
        skipped.push({ id, reason: 'invalid', detail: (error as Error).message });
        continue;
      }
      keep.add(id);
      definedUpserts.push({ scheduler: toScheduler(declaration), revision });
    }

    const upserted: string[] = [];
    for (const scheduler of schedulers) {
      await queue.upsertJobScheduler(scheduler.id, scheduler.repeat, scheduler.template);
      upserted.push(scheduler.id);
    }
    for (const { scheduler, revision } of definedUpserts) {
      await queue.upsertJobScheduler(scheduler.id, scheduler.repeat, scheduler.template);
      await recordAppliedRevision(options, scheduler.id, revision);
      upserted.push(scheduler.id);
    }
    for (const [id, revision] of pausedRevisions) {
      await recordAppliedRevision(options, id, revision);
      applied.set(id, revision);
    }
    const removed: string[] = [];
    for (const scheduler of await queue.getJobSchedulers(0, -1)) {
      const id = scheduler.id ?? scheduler.key;
      if (keep.has(id)) continue;
      // applied from a definition written after this read (by a sync that did not wait for this
      // one's lock): it stays
      if ((applied.get(id) ?? 0) > readRevision) {
        skipped.push({ id, reason: 'applied-after-read' });
        continue;
      }
      if (await queue.removeJobScheduler(id)) removed.push(id);
      // a defined schedule removed (deleted or paused) after revision r is marked r + 0.5: above
      // every definition read before, below any written after (revisions are whole numbers)
      const removedAfter = applied.get(id);
      if (removedAfter !== undefined && Number.isInteger(removedAfter)) {
        await recordAppliedRevision(options, id, removedAfter + 0.5);
      }
    }
    return { upserted, removed, skipped, generation };
  });
}

function checkTiming(declaration: ScheduleDeclaration): void {
  if (declaration.pattern !== undefined) {
    checkCron(declaration.pattern, declaration.tz ?? DEFAULT_SCHEDULE_TIMEZONE);
  } else if (!Number.isInteger(declaration.every) || declaration.every <= 0) {
    throw new Error(
      `every must be a positive whole number of milliseconds, got ${declaration.every}`,
    );
  }
}

/** Where a sync records, per scheduler id, the revision of the defined schedule it last applied. */
function appliedRevisionsKey(prefix: string): string {
  return `${prefix}:beat:schedule-revisions`;
}

async function readAppliedRevisions(options: ScheduleOwnerOptions): Promise<Map<string, number>> {
  const stored = await options.redis.hgetall(appliedRevisionsKey(options.prefix));
  return new Map(Object.entries(stored).map(([id, revision]) => [id, Number(revision)]));
}

// Only ever raised, and kept after the scheduler is removed: a definition read before the
// schedule was deleted or paused cannot bring it back.
const RAISE_REVISION_SCRIPT = `local current = tonumber(redis.call('hget', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) > current then redis.call('hset', KEYS[1], ARGV[1], ARGV[2]) end
return 1`;

async function recordAppliedRevision(
  options: ScheduleOwnerOptions,
  id: string,
  revision: number,
): Promise<void> {
  await options.redis.eval(
    RAISE_REVISION_SCRIPT,
    1,
    appliedRevisionsKey(options.prefix),
    id,
    String(revision),
  );
}

/** Announces a change of the defined schedules, so every beat resyncs now (see watchScheduleChanges). */
export async function announceScheduleChange(
  redis: Redis,
  prefix: string,
  key: string,
): Promise<void> {
  await redis.publish(scheduleChangesChannel(prefix), key);
}

/**
 * Calls `onChange` with the key of every announced change. `subscriber` must be a connection of
 * its own: a subscribed connection runs no other command. ioredis subscribes again after a
 * reconnect; changes announced meanwhile are picked up by the periodic resync.
 */
export async function watchScheduleChanges(
  subscriber: Redis,
  prefix: string,
  onChange: (key: string) => void,
): Promise<void> {
  const channel = scheduleChangesChannel(prefix);
  subscriber.on('message', (from: string, key: string) => {
    if (from === channel) onChange(key);
  });
  await subscriber.subscribe(channel);
}

function scheduleChangesChannel(prefix: string): string {
  return `${prefix}:beat:schedule-changes`;
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
      d.pattern === undefined
        ? { every: d.every }
        : { pattern: d.pattern, tz: d.tz ?? DEFAULT_SCHEDULE_TIMEZONE },
    template: { name: d.type, data: d.payload, opts: scheduledJobOptions(d.type) },
  };
}

/**
 * Everything a sync writes, so two lists that would write the same schedulers share a
 * fingerprint. A beat that also applies defined schedules has another fingerprint than one with
 * the same declarations that does not (a build from before they existed, which would remove
 * them): whichever started last is the newest, and only it changes anything.
 */
function fingerprintOf(schedulers: readonly SchedulerSpec[], appliesDefined: boolean): string {
  const sorted = [...schedulers].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const written = appliesDefined ? { schedulers: sorted, defined: true } : sorted;
  return createHash('sha256').update(JSON.stringify(written)).digest('hex');
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
  // the default priority, as an API job without one gets: without it a scheduled run would go
  // before every waiting API job
  const { attempts, backoff, removeOnComplete, removeOnFail, priority } = jobOptions(type);
  return { attempts, backoff, removeOnComplete, removeOnFail, priority };
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

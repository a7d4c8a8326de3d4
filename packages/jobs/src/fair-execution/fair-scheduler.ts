import { ErrorCode, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobQueue } from '../queue.ts';
import type { JobType } from '../registry.ts';
import { type LimitsByType, limitApplies, type ResolvedLimits } from './limits.ts';
import {
  ACQUIRE_SCRIPT,
  ARRIVE_SCRIPT,
  CONFIRM_ARRIVED_SCRIPT,
  CONFIRM_PARKED_SCRIPT,
  FORGET_SCRIPT,
  HOLDERS_SCRIPT,
  RELEASE_SCRIPT,
} from './scripts.ts';

/** Why a queued job has not started: a concurrency limit is full, or its key's rate window is. */
export type WaitingFor = 'concurrency' | 'rateLimit';

/**
 * How long a parked job sleeps before it checks its limits again by itself. Parked jobs are woken
 * when a slot frees; this only bounds the wait after a wake-up that was lost (a worker killed
 * between freeing a slot and waking the next job). Shorter costs a re-check per parked job per
 * period.
 */
export const PARKED_RECHECK_MS = 60_000;

type ScriptArgs = (string | number)[];
interface FairCommands {
  jobstackFairAcquire(...args: ScriptArgs): Promise<[0 | 1, string?, (string | number)?]>;
  jobstackFairRelease(...args: ScriptArgs): Promise<string[]>;
  jobstackFairConfirmParked(...args: ScriptArgs): Promise<0 | 1>;
  jobstackFairArrive(...args: ScriptArgs): Promise<(string | number)[]>;
  jobstackFairConfirmArrived(...args: ScriptArgs): Promise<string[]>;
  jobstackFairForget(...args: ScriptArgs): Promise<number>;
  jobstackFairHolders(...args: ScriptArgs): Promise<number>;
}

export interface FairSchedulerOptions {
  queue: JobQueue;
  /** The connection the scripts run on (the queue's or the worker's). */
  connection: Redis;
  limits: LimitsByType;
  /** Default PARKED_RECHECK_MS. */
  parkedRecheckMs?: number;
  /** The clock the limits are measured by: Redis's (shared by every worker) unless a test drives time. */
  now?: () => number;
}

/** A job about to be added to BullMQ, as park on arrival sees it. */
export interface ArrivingJob {
  id: string;
  type: JobType;
  concurrencyKey: string | null;
}

export interface FairScheduler {
  /**
   * Whether a job goes through admit/release at all: its type has a limit that applies to it (a
   * limit per key does not apply to a job without a key).
   */
  isLimited(type: JobType, concurrencyKey: string | null): boolean;
  /**
   * Takes the job's slots (true: run it now), or parks it (false): the job has been moved to
   * BullMQ's delayed set without using an attempt, and the processor must throw bullmq's
   * DelayedError. `token` is the worker's lock token for the job.
   */
  admit(job: Job, token: string, type: JobType, concurrencyKey: string | null): Promise<boolean>;
  /** Gives the slots of an admitted job back and wakes the parked jobs that may start now. */
  release(jobId: string, type: JobType, concurrencyKey: string | null): Promise<void>;
  /**
   * Whether a job is decided on arrival (parkOnArrival): its type has `maxConcurrent`, or it has a
   * key and its type a limit per key. The others cost the enqueuer nothing.
   */
  decidesOnArrival(type: JobType, concurrencyKey: string | null): boolean;
  /**
   * Park on arrival, for one batch about to be added (one Redis call): the jobs to add already
   * parked, by id, with their delay in ms (BullMQ's `delay`); the others go to wait as usual. After
   * the add, call confirmArrived with the parked ones.
   */
  parkOnArrival(jobs: readonly ArrivingJob[]): Promise<Map<string, number>>;
  /**
   * After the add of jobs parkOnArrival parked: confirms them, and promotes those a release woke
   * before BullMQ had them.
   */
  confirmArrived(jobs: readonly ArrivingJob[]): Promise<void>;
  /** Why a job waits, or null when it does not (it was never parked, or it has started). */
  waitingFor(jobId: string): Promise<WaitingFor | null>;
  /** Jobs holding a slot of the type, or of the type's key; expired leases do not count. */
  holders(type: JobType, concurrencyKey?: string | null): Promise<number>;
}

const NO_LIMITS: ResolvedLimits = {
  maxConcurrent: 0,
  maxConcurrentPerKey: 0,
  rateMax: 0,
  rateWindowMs: 0,
};

export function createFairScheduler(options: FairSchedulerOptions): FairScheduler {
  const { queue, limits } = options;
  const recheckMs = options.parkedRecheckMs ?? PARKED_RECHECK_MS;
  const clock = options.now;
  const redis = defineCommands(options.connection);
  const base = `${queue.toKey('fair')}:`;
  const jobBase = queue.toKey('');

  const args = (jobId: string, type: string, key: string | null): ScriptArgs => {
    const l = limits[type as JobType] ?? NO_LIMITS;
    return [
      base,
      jobBase,
      jobId,
      type,
      key ?? '',
      l.maxConcurrent,
      l.maxConcurrentPerKey,
      l.rateMax,
      l.rateWindowMs,
      clock ? clock() : '',
    ];
  };

  /**
   * Moves a parked job to wait. A job that is no longer delayed was woken twice or is still
   * being parked (its own worker promotes it then). One that no longer exists was removed while
   * parked: its bookkeeping is dropped, and the turn it was given passes on to the next job.
   */
  async function wake(jobId: string, type: string, key: string): Promise<void> {
    try {
      await queue.backend.promote(jobId);
    } catch (error) {
      if ((error as { code?: unknown }).code !== ErrorCode.JobNotInState) throw error;
      // BullMQ says "not delayed" for a job that no longer exists as well
      if ((await options.connection.exists(queue.toKey(jobId))) === 1) return;
      // Forget keeps a job parked on arrival whose add is still to come: its enqueuer promotes
      // it after the add (confirmArrived). The turn passes on either way (waking reserves nothing).
      await redis.jobstackFairForget(...args(jobId, type, key));
      await release(jobId, type, key);
    }
  }

  async function release(jobId: string, type: string, key: string | null): Promise<void> {
    const woken = await redis.jobstackFairRelease(...args(jobId, type, key));
    const wakes: Promise<void>[] = [];
    for (let i = 0; i < woken.length; i += 2) {
      wakes.push(wake(woken[i] as string, type, woken[i + 1] as string));
    }
    await Promise.all(wakes);
  }

  return {
    isLimited: (type, concurrencyKey) => limitApplies(limits, type, concurrencyKey),

    async admit(job, token, type, concurrencyKey) {
      const jobId = job.id as string;
      const [granted, second, third] = await redis.jobstackFairAcquire(
        ...args(jobId, type, concurrencyKey),
      );
      if (granted === 1) {
        if (second) await wake(second, type, String(third));
        return true;
      }
      const retryInMs = Number(third);
      await job.moveToDelayed(Date.now() + (retryInMs > 0 ? retryInMs : recheckMs), token);
      // A worker that freed a slot between the acquire and the move found the job still active
      // and could not promote it; it marked it woken instead.
      if ((await redis.jobstackFairConfirmParked(...args(jobId, type, concurrencyKey))) === 1) {
        await wake(jobId, type, concurrencyKey ?? '');
      }
      return false;
    },

    release,

    decidesOnArrival: (type, concurrencyKey) => limitApplies(limits, type, concurrencyKey),

    async parkOnArrival(jobs) {
      const parked = new Map<string, number>();
      if (jobs.length === 0) return parked;
      const entries: ScriptArgs = [];
      for (const job of jobs) {
        const l = limits[job.type] ?? NO_LIMITS;
        entries.push(
          job.id,
          job.type,
          job.concurrencyKey ?? '',
          l.maxConcurrent,
          l.maxConcurrentPerKey,
          l.rateMax,
          l.rateWindowMs,
        );
      }
      const common = args('', '', null);
      common[2] = recheckMs;
      const decided = await redis.jobstackFairArrive(...common, ...entries);
      for (let i = 0; i < decided.length; i += 2) {
        parked.set(String(decided[i]), Number(decided[i + 1]));
      }
      return parked;
    },

    async confirmArrived(jobs) {
      if (jobs.length === 0) return;
      const woken = await redis.jobstackFairConfirmArrived(
        ...args('', '', null),
        ...jobs.map((job) => job.id),
      );
      const byId = new Map(jobs.map((job) => [job.id, job]));
      await Promise.all(
        woken.map((id) => {
          const job = byId.get(id) as ArrivingJob;
          return wake(id, job.type, job.concurrencyKey ?? '');
        }),
      );
    },

    waitingFor: (jobId) => readWaitingFor(queue, options.connection, jobId),

    async holders(type, concurrencyKey = null) {
      return redis.jobstackFairHolders(...args('', type, concurrencyKey));
    },
  };
}

/** Why a queued job waits (README: fair execution), for readers that run no jobs (the API). */
export async function readWaitingFor(
  queue: JobQueue,
  connection: Redis,
  jobId: string,
): Promise<WaitingFor | null> {
  const reason = await connection.hget(`${queue.toKey('fair')}:waiting`, jobId);
  return reason === 'concurrency' || reason === 'rateLimit' ? reason : null;
}

/**
 * ioredis sends each script by its SHA and loads it when Redis does not know it yet. BullMQ
 * defines its own commands on the same connection; these names are ours alone.
 */
function defineCommands(connection: Redis): Redis & FairCommands {
  const scripts = {
    jobstackFairAcquire: ACQUIRE_SCRIPT,
    jobstackFairRelease: RELEASE_SCRIPT,
    jobstackFairConfirmParked: CONFIRM_PARKED_SCRIPT,
    jobstackFairArrive: ARRIVE_SCRIPT,
    jobstackFairConfirmArrived: CONFIRM_ARRIVED_SCRIPT,
    jobstackFairForget: FORGET_SCRIPT,
    jobstackFairHolders: HOLDERS_SCRIPT,
  };
  for (const [name, lua] of Object.entries(scripts)) {
    if (!(name in connection)) connection.defineCommand(name, { numberOfKeys: 0, lua });
  }
  return connection as Redis & FairCommands;
}

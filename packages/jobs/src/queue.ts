import { type JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { queuePriority } from './priority.ts';
import type { JobType } from './registry.ts';
import { jobTypes } from './registry.ts';

/** One queue for every job type: the worker's concurrency is shared fairly and one worker fleet serves all. */
export const QUEUE_NAME = 'jobs';

export type JobQueue = Queue;

/** `prefix` namespaces every key (BullMQ's prefix, not ioredis keyPrefix, which BullMQ's scripts do not honour). */
export function createJobQueue(connection: Redis, prefix: string): JobQueue {
  return new Queue(QUEUE_NAME, { connection, prefix });
}

/**
 * BullMQ options for one job: the type's defaults, the caller's attempts and priority (1–10;
 * `DEFAULT_JOB_PRIORITY` when none), and a delay until `runAt`.
 */
export function jobOptions(
  type: JobType,
  overrides: {
    jobId?: string;
    maxAttempts?: number | null;
    runAt?: Date | null;
    priority?: number | null;
  } = {},
): JobsOptions {
  const defaults = jobTypes[type].options;
  const delay = overrides.runAt ? Math.max(0, overrides.runAt.getTime() - Date.now()) : 0;
  return {
    ...(overrides.jobId === undefined ? {} : { jobId: overrides.jobId }),
    attempts: overrides.maxAttempts ?? defaults.attempts,
    priority: queuePriority(overrides.priority),
    backoff: { type: 'exponential', delay: defaults.backoffMs },
    ...(delay > 0 ? { delay } : {}),
    removeOnComplete: { age: defaults.keepCompletedSeconds },
    removeOnFail: { age: defaults.keepFailedSeconds },
  };
}

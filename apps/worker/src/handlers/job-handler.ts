import type { JobPayload, JobResult, JobType } from '@repo/jobs';
import type { Logger } from '@repo/logger';

export interface JobContext {
  /** The Postgres row id (also the BullMQ job id, except for scheduled runs). */
  id: string;
  /**
   * 1 on the first try. Counted on the row, so it goes on where it stopped when reconcile
   * enqueues a job again with the attempts it has left.
   */
  attempt: number;
  maxAttempts: number;
  /**
   * Aborts when the worker is shutting down and the job must give way, or when a client cancels
   * the job (POST /v1/jobs/:id/cancel; the reason is then a JobCancelledError). Pass it to what
   * the handler waits on. A handler that ignores it runs to its end, and the job ends cancelled.
   */
  signal: AbortSignal;
  logger: Logger;
  /**
   * Reports how far the job has got: `percent` from 0 to 100 (anything else throws an
   * InvalidProgressError), an optional message. Returns at once; the row (`progress`) is written
   * at most once a second, always with the latest report, and the last one before the handler
   * returns is written before the job finishes.
   */
  progress(percent: number, message?: string): void;
  /** What the handler learns about its attempt, recorded with it (GET /v1/jobs/:id/attempts). */
  details: AttemptDetails;
}

export interface AttemptDetails {
  /** A webhook delivery: the receiver's HTTP status, when it answered. */
  httpStatus?: number;
}

/**
 * Does the work of one job type. Throw to fail the attempt (it is retried with backoff while
 * attempts remain); throw bullmq's UnrecoverableError when retrying cannot help.
 */
export type JobHandler<T extends JobType> = (
  payload: JobPayload<T>,
  context: JobContext,
) => Promise<JobResult<T>>;

/** One handler per job type: adding a type to the contract fails compilation until it has one. */
export type JobHandlers = { [T in JobType]: JobHandler<T> };

/** A job's states; the PostgreSQL enum `job_status` has exactly these values, in this order. */
export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Statuses a job never leaves; such a job has `finishedAt` set. */
export const FINISHED_JOB_STATUSES = [
  'succeeded',
  'failed',
  'cancelled',
] as const satisfies readonly JobStatus[];

/** What a jsonb column holds once read back. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };

/** One row of the `jobs` table, as the repository returns it (the Prisma model `Job`). */
export interface JobRecord {
  id: string;
  type: string;
  payload: JsonValue;
  status: JobStatus;
  /** Attempts started so far; set by the worker to the attempt it is running. */
  attempts: number;
  maxAttempts: number;
  result: JsonValue | null;
  /** The last attempt's error; kept while the job waits for a retry, cleared on success. */
  error: string | null;
  idempotencyKey: string | null;
  /** When the job should run; null means as soon as possible. */
  runAt: Date | null;
  /** The BullMQ job scheduler a scheduled run came from; null for jobs created through the API. */
  schedulerId: string | null;
  /**
   * The BullMQ job id when it is not the row id: a scheduled run's `repeat:…` id, whose row id is
   * derived from it. Null for jobs created through the API, whose BullMQ job id is the row id.
   */
  queueJobId: string | null;
  createdAt: Date;
  /** When the first attempt started; later attempts leave it (see attemptStartedAt). */
  startedAt: Date | null;
  /** When the latest attempt started: its duration is finishedAt (or now) minus this. */
  attemptStartedAt: Date | null;
  /** The worker that runs or ran the latest attempt (its host name: a container's id in Docker). */
  workerId: string | null;
  /** When the job reached succeeded, failed or cancelled. */
  finishedAt: Date | null;
  updatedAt: Date;
}

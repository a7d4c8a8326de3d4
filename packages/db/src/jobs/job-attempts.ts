import { createBatcher } from '@repo/batching';
import type { Db } from '../create-db.ts';
import { isDatabaseUnavailableError, withOutagesTranslated } from '../database-unavailable.ts';
import { isUuid } from './list-cursor.ts';

/** How an attempt ended. */
export const ATTEMPT_OUTCOMES = [
  'succeeded',
  'failed',
  'retrying',
  'interrupted',
  'cancelled',
] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

export interface JobAttemptInput {
  jobId: string;
  /** The job's attempt number (1 on the first). */
  attempt: number;
  startedAt: Date;
  finishedAt: Date;
  /**
   * succeeded; failed for good; retrying (failed, tried again); interrupted by a shutdown;
   * cancelled on request while it ran.
   */
  outcome: AttemptOutcome;
  error?: string | null;
  /** A webhook delivery's HTTP status, when the receiver answered. */
  httpStatus?: number | null;
}

/** One row of `job_attempts`, as the API lists it. */
export interface JobAttemptRecord {
  attempt: number;
  startedAt: Date;
  finishedAt: Date;
  outcome: AttemptOutcome;
  error: string | null;
  workerId: string | null;
  httpStatus: number | null;
  durationMs: number;
}

export interface JobAttemptLog {
  /** One INSERT per attempt, sent with the other attempts that ended meanwhile (group commit). */
  record(attempt: JobAttemptInput): Promise<void>;
  /** A job's attempts, in the order they ended. */
  listForJob(jobId: string): Promise<JobAttemptRecord[]>;
}

/** The most attempts one INSERT carries. */
const ATTEMPT_BATCH_SIZE = 100;

export function createJobAttemptLog(
  db: Pick<Db, 'pool'>,
  options: { workerId?: string; onBatch?: (size: number) => void } = {},
): JobAttemptLog {
  const { pool } = db;
  // Every job's attempt ends in one such row, so rows that end together share a statement, as
  // the worker's status writes do (the job repository's group commit).
  const inserts = createBatcher<JobAttemptInput, void>({
    maxBatchSize: ATTEMPT_BATCH_SIZE,
    splitOnFailure: (error) => !isDatabaseUnavailableError(error),
    run: (items) =>
      withOutagesTranslated('record a job attempt', async () => {
        options.onBatch?.(items.length);
        await pool.query(
          `INSERT INTO job_attempts (job_id, attempt, started_at, finished_at, outcome, error,
                                     worker_id, http_status, duration_ms)
           SELECT job_id, attempt, started_at, finished_at, outcome, error, $8::text, http_status,
                  GREATEST(round(extract(epoch FROM finished_at - started_at) * 1000), 0)::int
             FROM unnest($1::uuid[], $2::int[], $3::timestamptz[], $4::timestamptz[], $5::text[],
                         $6::text[], $7::int[])
               AS item(job_id, attempt, started_at, finished_at, outcome, error, http_status)`,
          [
            items.map((item) => item.jobId),
            items.map((item) => item.attempt),
            items.map((item) => item.startedAt),
            items.map((item) => item.finishedAt),
            items.map((item) => item.outcome),
            // text columns cannot hold NUL; an error message must never make recording it fail
            items.map((item) => item.error?.replaceAll('\u0000', '\uFFFD') ?? null),
            items.map((item) => item.httpStatus ?? null),
            options.workerId ?? null,
          ],
        );
        return items.map(() => undefined);
      }),
  });

  return {
    record: (attempt) => inserts.submit(attempt),
    listForJob: (jobId) =>
      withOutagesTranslated('list job attempts', async () => {
        if (!isUuid(jobId)) return [];
        const { rows } = await pool.query<JobAttemptRecord>(
          `SELECT attempt, started_at AS "startedAt", finished_at AS "finishedAt", outcome, error,
                  worker_id AS "workerId", http_status AS "httpStatus", duration_ms AS "durationMs"
             FROM job_attempts WHERE job_id = $1::uuid ORDER BY id`,
          [jobId],
        );
        return rows;
      }),
  };
}

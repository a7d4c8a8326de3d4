import type { Job } from '../generated/prisma/client.ts';
import { type JobStatus, JobStatus as JobStatusValues } from '../generated/prisma/enums.ts';

export type { JobStatus };

// The row's shape is the Prisma model `Job` (prisma/schema.prisma): its generated type is the
// repository's row type, and the enum `JobStatus` its statuses. Nothing here repeats a column.

/** One row of the `jobs` table, as the repository returns it: the generated Prisma model type. */
export type JobRecord = Job;

/** A job's states: the schema's enum `JobStatus` (PostgreSQL `job_status`), in its order. */
export const JOB_STATUSES = Object.values(JobStatusValues) as [JobStatus, ...JobStatus[]];

/** Statuses a job never leaves; such a job has `finishedAt` set. */
export const FINISHED_JOB_STATUSES = [
  'succeeded',
  'failed',
  'cancelled',
  'expired',
] as const satisfies readonly JobStatus[];

/** What a jsonb column holds once read back. */
export type JsonValue = NonNullable<JobRecord['result']> | null;

import { JOB_STATUSES, type JobProgress, type JobRecord } from '@repo/db';
import type { WaitingFor } from '@repo/jobs';
import { z } from 'zod';
import { jsonValueSchema } from './openapi/operation.ts';

export function jobPath(id: string): string {
  return `/v1/jobs/${id}`;
}

const timestamp = z.iso.datetime();

/** What a job's handler reported (`ctx.progress`), as stored on its row. */
export const jobProgressSchema = z
  .strictObject({
    percent: z.number().min(0).max(100),
    message: z.string().nullable(),
    updatedAt: timestamp.meta({ description: 'When it was written.' }),
  })
  .meta({ id: 'JobProgress' });

/**
 * A job as the API shows it: jobResource below must produce exactly this (its return type is
 * this schema's), and the OpenAPI document describes it from here.
 */
export const jobResourceSchema = z
  .strictObject({
    id: z.uuid(),
    type: z.string().meta({ description: 'The job type (docs/job-types.md).' }),
    status: z.enum(JOB_STATUSES).meta({
      description:
        '`running` once a handler has run for a moment (the worker setting JOB_RUNNING_STATUS_DELAY, 250 ms by default): a job that ends sooner goes from `queued` straight to its outcome.',
    }),
    payload: jsonValueSchema,
    result: jsonValueSchema.meta({
      description: 'What the handler returned; null until it succeeded.',
    }),
    error: z
      .string()
      .nullable()
      .meta({ description: "The latest attempt's error; null if none failed." }),
    attempts: z.int().min(0),
    maxAttempts: z.int().min(1),
    runAt: timestamp
      .nullable()
      .meta({ description: 'When a delayed job is due; null for at once.' }),
    createdAt: timestamp,
    updatedAt: timestamp,
    startedAt: timestamp.nullable().meta({ description: 'When the first attempt started.' }),
    attemptStartedAt: timestamp
      .nullable()
      .meta({ description: 'When the latest attempt started.' }),
    workerId: z
      .string()
      .nullable()
      .meta({ description: 'The host name of the worker that runs or ran the latest attempt.' }),
    finishedAt: timestamp.nullable(),
    idempotencyKey: z.string().nullable(),
    schedulerId: z.string().nullable().meta({
      description:
        'The schedule a scheduled or triggered run came from; null for jobs posted to the API.',
    }),
    concurrencyKey: z
      .string()
      .nullable()
      .meta({ description: "The key the type's concurrency and rate limits apply per." }),
    tags: z.array(z.string()).meta({ description: 'Labels to find the job by; [] when none.' }),
    metadata: z
      .record(z.string(), jsonValueSchema)
      .meta({ description: "The client's own data about the job, as given; {} when none." }),
    priority: z
      .int()
      .min(1)
      .max(10)
      .meta({ description: 'Among waiting jobs, 1 runs first and 10 last.' }),
    ttl: z
      .int()
      .nullable()
      .meta({ description: 'Seconds the job may wait to start once due; null for no limit.' }),
    expiresAt: timestamp.nullable().meta({
      description: 'When the job expires unless started by then (runAt, else createdAt, + ttl).',
    }),
    retryOf: z
      .uuid()
      .nullable()
      .meta({ description: 'The job this one retries; null for a job of its own.' }),
    waitingFor: z
      .enum(['concurrency', 'rateLimit'] satisfies WaitingFor[])
      .nullable()
      .meta({
        description:
          'Why a queued job has not started; known only on GET /v1/jobs/{id}, null elsewhere.',
      }),
    progress: jobProgressSchema.nullable().meta({
      description:
        'What the running attempt last reported; null until it reports, and again when an attempt starts.',
    }),
    cancelRequestedAt: timestamp.nullable().meta({
      description:
        'When a client asked to cancel the job while a worker had it; the attempt then ends `cancelled`.',
    }),
    links: z.strictObject({ self: z.string() }),
  })
  .meta({ id: 'Job' });

export type JobResource = z.input<typeof jobResourceSchema>;

/**
 * A job as the API shows it: the Postgres record with ISO-8601 times and a link to itself.
 * `waitingFor` says why a queued job has not started (a concurrency or rate limit); it is known
 * only where the job is read alone (GET /v1/jobs/:id), and null elsewhere.
 */
export function jobResource(job: JobRecord, waitingFor: WaitingFor | null = null): JobResource {
  return {
    id: job.id,
    type: job.type,
    status: job.status,
    payload: job.payload,
    result: job.result ?? null,
    error: job.error ?? null,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    runAt: job.runAt?.toISOString() ?? null,
    createdAt: job.createdAt.toISOString(),
    updatedAt: job.updatedAt.toISOString(),
    startedAt: job.startedAt?.toISOString() ?? null,
    /** The latest attempt: when it started, and the worker (host name) that runs or ran it. */
    attemptStartedAt: job.attemptStartedAt?.toISOString() ?? null,
    workerId: job.workerId ?? null,
    finishedAt: job.finishedAt?.toISOString() ?? null,
    idempotencyKey: job.idempotencyKey ?? null,
    /** The schedule a scheduled run came from; null for jobs posted to the API. */
    schedulerId: job.schedulerId ?? null,
    /** The key the type's concurrency and rate limits apply per; null for none. */
    concurrencyKey: job.concurrencyKey ?? null,
    /** Labels to find the job by; [] when none. */
    tags: job.tags ?? [],
    /** The client's own data about the job, as given; {} when none. */
    metadata: (job.metadata ?? {}) as Record<string, unknown>,
    /** 1 (first) … 10 (last) among the jobs waiting for a worker. */
    priority: job.priority,
    /** Seconds the job may wait to start once due; null for no limit. */
    ttl: job.ttl ?? null,
    /** When it expires unless started by then (runAt, else createdAt, + ttl); null without a ttl. */
    expiresAt: job.expiresAt?.toISOString() ?? null,
    /** The job this one retries; null for a job of its own. */
    retryOf: job.retryOf ?? null,
    waitingFor,
    /** What the running attempt last reported: { percent, message, updatedAt }; null before. */
    progress: (job.progress as JobProgress | null) ?? null,
    /** When a client asked to cancel the job while a worker had it; it then ends `cancelled`. */
    cancelRequestedAt: job.cancelRequestedAt?.toISOString() ?? null,
    links: { self: jobPath(job.id) },
  };
}

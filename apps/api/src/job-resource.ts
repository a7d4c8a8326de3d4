import type { JobRecord } from '@repo/db';
import type { WaitingFor } from '@repo/jobs';

export function jobPath(id: string): string {
  return `/v1/jobs/${id}`;
}

/**
 * A job as the API shows it: the Postgres record with ISO-8601 times and a link to itself.
 * `waitingFor` says why a queued job has not started (a concurrency or rate limit); it is known
 * only where the job is read alone (GET /v1/jobs/:id), and null elsewhere.
 */
export function jobResource(job: JobRecord, waitingFor: WaitingFor | null = null) {
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
    metadata: job.metadata ?? {},
    /** 1 (first) … 10 (last) among the jobs waiting for a worker. */
    priority: job.priority,
    /** Seconds the job may wait to start once due; null for no limit. */
    ttl: job.ttl ?? null,
    /** When it expires unless started by then (runAt, else createdAt, + ttl); null without a ttl. */
    expiresAt: job.expiresAt?.toISOString() ?? null,
    /** The job this one retries; null for a job of its own. */
    retryOf: job.retryOf ?? null,
    waitingFor,
    links: { self: jobPath(job.id) },
  };
}

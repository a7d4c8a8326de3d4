import { BatchQueueFullError } from '@repo/batching';
import { isDatabaseUnavailableError, type JobRecord, type JobRepository } from '@repo/db';
import type { Health } from '@repo/health';
import {
  createJobEnqueuer,
  encodeJobEvent,
  isRedisUnavailableError,
  type JobQueue,
  type JobType,
  jobCancelChannel,
  jobEventsChannel,
  jobTypes,
  parseJobPayload,
  readWaitingFor,
  resolveEnqueueableType,
  resolveJobType,
  type WaitingFor,
} from '@repo/jobs';
import type { Logger } from '@repo/logger';
import canonicalize from 'canonicalize';
import express, { type Request, Router } from 'express';
import type { Redis } from 'ioredis';
import type { HttpConfig } from '../env.ts';
import { JobCreationProgress } from '../job-creation-progress.ts';
import { jobPath, jobResource } from '../job-resource.ts';
import { checkJsonBody } from '../middleware/check-json-body.ts';
import { methodNotAllowed } from '../middleware/method-not-allowed.ts';
import { requestAbandonment } from '../middleware/request-timeout.ts';
import { requireJsonBody } from '../middleware/require-json-body.ts';
import {
  DependencyUnavailableError,
  JobNotFoundError,
  ProblemError,
  ServerBusyError,
} from '../problems.ts';
import { callRedis } from '../redis-availability.ts';
import { parseRequestPart } from '../request-validation.ts';
import type { PayloadCheck } from '../webhook-delivery-check.ts';
import {
  createJobBody,
  idempotencyHeaders,
  type JobList,
  jobIdParams,
  listJobsQuery,
  MAX_WAIT_SECONDS,
} from './jobs.contract.ts';

/** Deepest JSON nesting accepted in a request body (the body object itself is level 1). */
export const MAX_BODY_DEPTH = 64;
const WAIT_POLL_INTERVAL_MS = 250;

const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['succeeded', 'failed', 'cancelled']);

/**
 * The most jobs that may wait for their `addBulk` (ten full batches). Past it, while Redis is slow,
 * a POST answers 503 at once; its row is recorded, and reconcile queues it.
 */
export const ENQUEUE_MAX_WAITING = 1_000;

export interface JobsRouterOptions {
  jobs: JobRepository;
  queue: JobQueue;
  /** The queue's connection, for what BullMQ does not keep (why a job waits). */
  redis: Redis;
  health: Health;
  config: Pick<HttpConfig, 'BODY_LIMIT' | 'REQUEST_TIMEOUT'>;
  redisTimeoutMs: number;
  /** What a payload must satisfy beyond its schema (a webhook endpoint that exists). */
  checkPayload?: PayloadCheck;
  /** The queue's prefix, which the cancel and event channels are named under. */
  queuePrefix: string;
  /** Counts cancel requests by outcome (a metric). */
  onCancel?: (outcome: 'cancelled' | 'cancel_requested') => void;
}

export function jobsRouter(options: JobsRouterOptions): Router {
  const { jobs, queue } = options;
  const router = Router();
  // concurrent requests share an addBulk, as their rows shared an INSERT (group commit)
  const enqueueJob = createJobEnqueuer(queue, { maxWaiting: ENQUEUE_MAX_WAITING });

  /**
   * Adds the job to BullMQ under its row id, so adding it twice adds it once. It is not given the
   * request's abandonment signal: the row exists, and queueing it now is better than leaving it
   * to reconcile.
   */
  async function enqueue(job: JobRecord, progress: JobCreationProgress): Promise<void> {
    const type = resolveJobType(job.type);
    await callRedis('enqueue the job', options.redisTimeoutMs, () =>
      enqueueJob({
        id: job.id,
        type,
        payload: parseJobPayload(type, job.payload),
        runAt: job.runAt,
        maxAttempts: job.maxAttempts,
        concurrencyKey: job.concurrencyKey,
      }),
    ).catch((error: unknown) => {
      if (error instanceof BatchQueueFullError) {
        throw new ServerBusyError(
          `Too many jobs are waiting to be queued. ${progress.current.advice}`,
          { cause: error, extensions: progress.current.members },
        );
      }
      if (!(error instanceof DependencyUnavailableError)) throw error;
      throw new DependencyUnavailableError(
        'redis',
        `Job ${job.id} was recorded but could not be queued because Redis is unavailable. It stays queued and is queued automatically once Redis is back; ${
          progress.hasIdempotencyKey
            ? 'retrying with the same Idempotency-Key queues it sooner.'
            : 'do not post it again (without an Idempotency-Key that would create a second job).'
        }`,
        { cause: error.cause ?? error, extensions: progress.current.members },
      );
    });
  }

  /**
   * Inserts the row. A request abandoned (timed out, or its client gone) before its INSERT was
   * sent creates nothing; once it was sent, the job may exist, and `progress` says so.
   */
  async function createRow(
    input: Parameters<JobRepository['create']>[0],
    req: Request,
    progress: JobCreationProgress,
  ) {
    try {
      return await jobs.create(input, {
        signal: requestAbandonment(req).signal,
        onSent: (id) => progress.insertSent(id),
      });
    } catch (error) {
      if (error instanceof BatchQueueFullError) {
        throw new ServerBusyError(
          `Too many jobs are waiting to be recorded. ${progress.current.advice}`,
          { cause: error, extensions: progress.current.members },
        );
      }
      if (isDatabaseUnavailableError(error)) {
        throw new DependencyUnavailableError(
          'database',
          `PostgreSQL is unavailable. ${progress.current.advice}`,
          { cause: error, extensions: progress.current.members },
        );
      }
      throw error;
    }
  }

  /**
   * Long-poll: re-reads the job until it has finished, the wait is over, the client has gone, or
   * the server is shutting down (the client then simply polls again, likely another replica).
   */
  async function waitForFinish(job: JobRecord, waitMs: number, req: Request): Promise<JobRecord> {
    const deadline = Date.now() + waitMs;
    let current = job;
    while (
      !TERMINAL_STATUSES.has(current.status) &&
      Date.now() < deadline &&
      options.health.lifecycle !== 'stopping' &&
      !req.socket.destroyed
    ) {
      await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_INTERVAL_MS));
      current = (await jobs.findById(current.id)) ?? current;
    }
    return current;
  }

  /**
   * The row is cancelled already, and that is what counts: a worker that still receives the job
   * finds it cancelled and skips it. Removing it from Redis only spares that round trip, so a
   * failure here is logged, not answered with an error.
   */
  async function removeFromQueue(id: string, log: Logger): Promise<void> {
    try {
      await callRedis('remove the job from the queue', options.redisTimeoutMs, async () => {
        const queued = await queue.getJob(id);
        await queued?.remove();
      });
    } catch (error) {
      if (!(error instanceof DependencyUnavailableError) && !isLockedJobError(error)) throw error;
      log.warn({ err: error, jobId: id }, 'cancelled job stays in Redis; the worker will skip it');
    }
  }

  /**
   * Publishes on a pub/sub channel: to the worker holding a running job that is cancelled, or to
   * the api processes streaming a job's events. The row already says what the message says, so a
   * Redis outage here is logged, not answered with an error: the worker still ends the attempt
   * cancelled when it finishes, and event streams read the row on their next heartbeat.
   */
  async function announce(channel: string, message: string, log: Logger): Promise<void> {
    try {
      await callRedis('announce the change', options.redisTimeoutMs, () =>
        options.redis.publish(channel, message),
      );
    } catch (error) {
      if (!(error instanceof DependencyUnavailableError)) throw error;
      log.warn({ err: error, channel }, 'could not announce a job change; the row records it');
    }
  }

  router
    .route('/v1/jobs')
    .post(
      requireJsonBody(),
      express.json({ limit: options.config.BODY_LIMIT, strict: true, type: 'application/json' }),
      checkJsonBody(MAX_BODY_DEPTH),
      async (req, res) => {
        const { 'idempotency-key': idempotencyKey } = parseRequestPart(
          idempotencyHeaders,
          { 'idempotency-key': req.get('idempotency-key') },
          'headers',
        );
        const body = parseRequestPart(createJobBody, req.body, 'body');
        const type = resolveEnqueueableType(body.type);
        const payload = parseJobPayload(type, body.payload);
        await options.checkPayload?.(type, payload);
        const request = {
          type,
          payload,
          maxAttempts: body.maxAttempts ?? jobTypes[type].options.attempts,
          runAt: body.runAt ? new Date(body.runAt) : null,
          concurrencyKey: body.concurrencyKey ?? null,
        };

        const progress = new JobCreationProgress(idempotencyKey !== undefined);
        const abandonment = requestAbandonment(req);
        abandonment.describeProgressWith(() => progress.current);

        const { job, created } = await createRow(
          { ...request, ...(idempotencyKey === undefined ? {} : { idempotencyKey }) },
          req,
          progress,
        );
        if (!created && !isSameRequest(job, request)) {
          throw new ProblemError(
            'idempotency-key-reused',
            `Idempotency-Key "${idempotencyKey}" was first used for a different request (job ${job.id}). Use a new key for a new job.`,
            { extensions: { jobId: job.id, links: { job: jobPath(job.id) } } },
          );
        }
        // A repeated request finds the row of the first one. If that one could not reach Redis,
        // the row is still queued: enqueueing again (same id, so never twice) completes it now.
        progress.recorded(job.id);
        if (job.status === 'queued') await enqueue(job, progress);
        if (abandonment.signal.aborted) {
          // the client was answered 503 (or left) while this ran; the 503 said the job may exist
          req.log.info(
            { jobId: job.id, created, reason: (abandonment.signal.reason as Error).message },
            'job recorded after its request was abandoned',
          );
          return;
        }
        res
          .status(created ? 202 : 200)
          .location(jobPath(job.id))
          .json(jobResource(job));
      },
    )
    .get(async (req, res) => {
      const query = parseRequestPart(listJobsQuery, req.query, 'query');
      const page = await jobs.list(query);
      const body: JobList = {
        jobs: page.jobs.map((job) => jobResource(job)),
        nextCursor: page.nextCursor,
        links: {
          self: listPath({ ...query, cursor: query.cursor }),
          next: page.nextCursor ? listPath({ ...query, cursor: page.nextCursor }) : null,
        },
      };
      res.json(body);
    })
    .all(methodNotAllowed(['GET', 'HEAD', 'POST']));

  router
    .route('/v1/jobs/:id')
    .get(async (req, res) => {
      const { id } = parseRequestPart(jobIdParams, req.params, 'params');
      let job = await jobs.findById(id);
      if (!job) throw new JobNotFoundError(id);

      const waitSeconds = Math.min(
        preferredWaitSeconds(req),
        Math.floor((options.config.REQUEST_TIMEOUT - 1_000) / 1_000),
      );
      if (waitSeconds > 0) {
        res.set('Preference-Applied', `wait=${waitSeconds}`);
        job = await waitForFinish(job, waitSeconds * 1_000, req);
      }
      res.json(jobResource(job, await waitingFor(job)));
    })
    .all(methodNotAllowed(['GET', 'HEAD']));

  /**
   * Why a queued job has not started, from the worker's limits in Redis. Only a queued job can be
   * waiting, so only its lookup costs a Redis call.
   */
  async function waitingFor(job: JobRecord): Promise<WaitingFor | null> {
    if (job.status !== 'queued') return null;
    return callRedis('read why the job waits', options.redisTimeoutMs, () =>
      readWaitingFor(queue, options.redis, job.id),
    );
  }

  router
    .route('/v1/jobs/:id/cancel')
    .post(async (req, res) => {
      const { id } = parseRequestPart(jobIdParams, req.params, 'params');
      const outcome = await jobs.cancel(id);
      if (outcome.outcome === 'not_found') throw new JobNotFoundError(id);
      if (outcome.outcome === 'conflict') {
        throw new ProblemError(
          'job-not-cancellable',
          `Job ${id} is ${outcome.job.status}; only queued or running jobs can be cancelled.`,
          { extensions: { jobId: id, jobStatus: outcome.job.status } },
        );
      }
      options.onCancel?.(outcome.outcome);
      if (outcome.outcome === 'cancel_requested') {
        // recorded on the row: the attempt ends cancelled even if the news cannot reach its worker
        await announce(jobCancelChannel(options.queuePrefix), id, req.log);
        res.status(202).location(jobPath(id)).json(jobResource(outcome.job));
        return;
      }
      await removeFromQueue(id, req.log);
      await announce(
        jobEventsChannel(options.queuePrefix),
        encodeJobEvent({ kind: 'status', jobId: id }),
        req.log,
      );
      res.json(jobResource(outcome.job));
    })
    .all(methodNotAllowed(['POST']));

  return router;
}

/**
 * The stored job is compared as JSON (RFC 8785 canonical form), because that is what jsonb kept:
 * key order, and -0 (jsonb stores 0), are not part of a request's meaning.
 */
function isSameRequest(
  job: JobRecord,
  request: {
    type: JobType;
    payload: unknown;
    maxAttempts: number;
    runAt: Date | null;
    concurrencyKey: string | null;
  },
): boolean {
  return (
    job.type === request.type &&
    job.concurrencyKey === request.concurrencyKey &&
    job.maxAttempts === request.maxAttempts &&
    (job.runAt?.getTime() ?? null) === (request.runAt?.getTime() ?? null) &&
    canonicalize(job.payload) === canonicalize(request.payload)
  );
}

/** BullMQ refuses to remove a job a worker holds the lock of; that worker then skips it. */
function isLockedJobError(error: unknown): boolean {
  return error instanceof Error && /locked/i.test(error.message) && !isRedisUnavailableError(error);
}

/** `Prefer: wait=<seconds>` (RFC 7240); a malformed preference is ignored, as the RFC asks. */
function preferredWaitSeconds(req: Request): number {
  const header = req.get('prefer');
  if (header === undefined) return 0;
  for (const preference of header.split(',')) {
    const match = /^\s*wait\s*=\s*(\d{1,6})\s*$/i.exec(preference);
    if (match) return Math.min(Number(match[1]), MAX_WAIT_SECONDS);
  }
  return 0;
}

function listPath(query: {
  status?: string | undefined;
  type?: string | undefined;
  concurrencyKey?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) params.set(name, String(value));
  }
  return `/v1/jobs?${params}`;
}

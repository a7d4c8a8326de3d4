import { BatchQueueFullError } from '@repo/batching';
import {
  FINISHED_JOB_STATUSES,
  isDatabaseUnavailableError,
  type JobRecord,
  type JobRepository,
  type QueuedJobRelease,
} from '@repo/db';
import type { Health } from '@repo/health';
import {
  createJobEnqueuer,
  DEFAULT_JOB_PRIORITY,
  ENQUEUEABLE_JOB_TYPES,
  encodeJobEvent,
  enqueueJobs,
  InvalidPayloadError,
  type JobQueue,
  type JobType,
  jobCancelChannel,
  jobEventsChannel,
  jobTypes,
  type LimitsByType,
  limitApplies,
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
import type { z } from 'zod';
import type { HttpConfig } from '../env.ts';
import { problemDetailsOf, toProblemError } from '../error-boundary.ts';
import { JobCreationProgress } from '../job-creation-progress.ts';
import { RETRYABLE_STATUSES, retryIdempotencyKey } from '../job-fields.ts';
import { jobPath, jobResource } from '../job-resource.ts';
import { checkJsonBody, findProblem } from '../middleware/check-json-body.ts';
import { methodNotAllowed } from '../middleware/method-not-allowed.ts';
import { requestAbandonment } from '../middleware/request-timeout.ts';
import { requireJsonBody } from '../middleware/require-json-body.ts';
import {
  DependencyUnavailableError,
  JobNotFoundError,
  type ProblemDetails,
  ProblemError,
  ServerBusyError,
  ValidationError,
} from '../problems.ts';

/** One item's outcome in a POST /v1/jobs/batch answer, in request order. */
type BatchResult =
  | { status: 200 | 202; job: ReturnType<typeof jobResource> }
  | { status: number; error: ProblemDetails };

import { callRedis } from '../redis-availability.ts';
import { parseRequestPart } from '../request-validation.ts';
import type { PayloadCheck } from '../webhook-delivery-check.ts';
import {
  batchBody,
  batchItem,
  bulkRetryBody,
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

/** What a valid POST /v1/jobs body (or batch item) asks for, the defaults filled in. */
function jobRequestOf(body: z.output<typeof createJobBody>) {
  const type = resolveEnqueueableType(body.type);
  return {
    type,
    payload: parseJobPayload(type, body.payload),
    maxAttempts: body.maxAttempts ?? jobTypes[type].options.attempts,
    runAt: body.runAt ? new Date(body.runAt) : null,
    concurrencyKey: body.concurrencyKey ?? null,
    tags: body.tags ?? [],
    metadata: body.metadata ?? {},
    priority: body.priority ?? DEFAULT_JOB_PRIORITY,
    ttl: body.ttl ?? null,
  };
}

/** What BullMQ is given for a job row: its id, contract-checked payload and options. */
function enqueueInputOf(job: JobRecord) {
  const type = resolveJobType(job.type);
  return {
    id: job.id,
    type,
    payload: parseJobPayload(type, job.payload),
    runAt: job.runAt,
    maxAttempts: job.maxAttempts,
    concurrencyKey: job.concurrencyKey,
    priority: job.priority,
    // the BullMQ job is given all the row's attempts, so its count starts at none used (the
    // worker numbers the attempts from this without reading the row)
    rowCount: { attemptsUsed: 0, expiresAt: job.expiresAt?.toISOString() ?? null },
  };
}

/** A batch item's problem, its paths starting at the item (["body", "jobs", 3, "payload"]). */
function withinItem(problem: ProblemError, index: number): ProblemError {
  if (!(problem instanceof ValidationError)) return problem;
  return new ValidationError(
    `Job ${index} of the batch did not pass validation: ${problem.message}`,
    problem.issues.map((issue) => ({
      ...issue,
      path: [
        'body',
        'jobs',
        index,
        ...(issue.path[0] === 'body' ? issue.path.slice(1) : issue.path),
      ],
    })),
  );
}

/** How many retries of a bulk retry are written and queued together (one INSERT, one addBulk). */
const BULK_RETRY_CHUNK = 100;

const TERMINAL_STATUSES: ReadonlySet<string> = new Set(FINISHED_JOB_STATUSES);

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
  /**
   * The job types' limits, for park on arrival and for which jobs can be waiting for one; without,
   * every job is added to wait, and every queued job's `waitingFor` is read from Redis.
   */
  limits?: LimitsByType;
  /** Counts a job added already parked (park on arrival), by type. */
  onParked?: (type: JobType) => void;
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
  const arrival = options.limits && {
    limits: options.limits,
    connection: options.redis,
    ...(options.onParked ? { onParked: options.onParked } : {}),
  };
  const enqueueJob = createJobEnqueuer(queue, {
    maxWaiting: ENQUEUE_MAX_WAITING,
    ...(arrival ? { arrival } : {}),
  });

  /**
   * Adds the job to BullMQ under its row id, so adding it twice adds it once. It is not given the
   * request's abandonment signal: the row exists, and queueing it now is better than leaving it
   * to reconcile.
   */
  async function enqueue(job: JobRecord, progress: JobCreationProgress): Promise<void> {
    await callRedis('enqueue the job', options.redisTimeoutMs, () =>
      enqueueJob(enqueueInputOf(job)),
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
   * Takes a queued job's BullMQ job off the queue unless a worker holds it: BullMQ's remove
   * refuses a job whose lock a worker holds (0), and removes one that is waiting, delayed or gone
   * (1). A held job's handler may be running already (workers write `running` only after a short
   * delay), so only a removed one may be answered as cancelled. A scheduler's next run (-8) and
   * an unreachable Redis count as held: the cancellation stays requested on the row, and the
   * worker that gets the job ends it cancelled.
   */
  function queuedJobRelease(log: Logger): QueuedJobRelease {
    return async (job) => {
      const queueJobId = job.queueJobId ?? job.id;
      try {
        const code = await callRedis('take the job off the queue', options.redisTimeoutMs, () =>
          queue.remove(queueJobId),
        );
        return code === 1 ? 'released' : 'held';
      } catch (error) {
        if (!(error instanceof DependencyUnavailableError)) throw error;
        log.warn(
          { err: error, jobId: job.id },
          'cannot tell whether a worker holds the job: its cancellation stays requested',
        );
        return 'held';
      }
    };
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
        const request = jobRequestOf(parseRequestPart(createJobBody, req.body, 'body'));
        await options.checkPayload?.(request.type, request.payload);

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
      const page = await jobs.list({ ...query, tags: query.tag });
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

  /**
   * Creates the retry of a finished job, or finds the one it already has (one retry per job,
   * through its idempotency key), and queues it if it is still queued. The retry is a new job:
   * the source's type, payload, tags, metadata, priority, concurrency key, attempts and ttl,
   * due now, and `retryOf` naming the source. The source row is not changed.
   */
  async function retry(source: JobRecord, req: Request) {
    const type = resolveEnqueueableType(source.type);
    const progress = new JobCreationProgress(true);
    const { job, created } = await createRow(
      {
        type,
        // the payload must still match the type's contract, which may have changed since
        payload: parseJobPayload(type, source.payload),
        maxAttempts: source.maxAttempts,
        concurrencyKey: source.concurrencyKey,
        tags: source.tags ?? [],
        metadata: (source.metadata ?? {}) as Record<string, unknown>,
        priority: source.priority,
        ttl: source.ttl,
        retryOf: source.id,
        idempotencyKey: retryIdempotencyKey(source.id),
      },
      req,
      progress,
    );
    progress.recorded(job.id);
    if (job.status === 'queued') await enqueue(job, progress);
    return { job, created };
  }

  const isRetryable = (job: JobRecord) =>
    (RETRYABLE_STATUSES as readonly string[]).includes(job.status);

  router
    .route('/v1/jobs/retry')
    .post(
      requireJsonBody(),
      express.json({ limit: options.config.BODY_LIMIT, strict: true, type: 'application/json' }),
      checkJsonBody(MAX_BODY_DEPTH),
      async (req, res) => {
        const body = parseRequestPart(bulkRetryBody, req.body, 'body');
        const { jobs: matched } = await jobs.list({
          status: body.status,
          type: body.type,
          tags: body.tag,
          createdAfter: body.createdAfter,
          createdBefore: body.createdBefore,
          limit: body.limit,
        });
        // jobs of the types that run on schedules only are not retried through the API
        const sources = matched.filter((job) => ENQUEUEABLE_JOB_TYPES.includes(job.type as never));
        if (body.dryRun) {
          res.json({ matched: sources.length, jobs: [] });
          return;
        }
        const retries: string[] = [];
        // a statement's worth at a time: the jobs of one chunk share an INSERT and an addBulk
        for (let start = 0; start < sources.length; start += BULK_RETRY_CHUNK) {
          const chunk = sources.slice(start, start + BULK_RETRY_CHUNK);
          const results = await Promise.all(
            chunk.map((source) =>
              retry(source, req).catch((error: unknown) => {
                // a payload its type no longer accepts cannot be retried; the others go on
                if (error instanceof InvalidPayloadError) {
                  req.log.warn(
                    { jobId: source.id, err: error },
                    'job not retried: payload no longer valid',
                  );
                  return null;
                }
                throw error;
              }),
            ),
          );
          for (const result of results) if (result) retries.push(result.job.id);
        }
        res.json({ matched: sources.length, jobs: retries });
      },
    )
    .all(methodNotAllowed(['POST']));

  router
    .route('/v1/jobs/:id/retry')
    .post(async (req, res) => {
      const { id } = parseRequestPart(jobIdParams, req.params, 'params');
      const source = await jobs.findById(id);
      if (!source) throw new JobNotFoundError(id);
      if (!isRetryable(source)) {
        throw new ProblemError(
          'job-not-retryable',
          `Job ${id} is ${source.status}; only ${RETRYABLE_STATUSES.join(', ')} jobs can be retried.`,
          { extensions: { jobId: id, jobStatus: source.status } },
        );
      }
      if (!ENQUEUEABLE_JOB_TYPES.includes(source.type as never)) {
        throw new ProblemError(
          'job-not-retryable',
          `Job ${id} is of type ${source.type}, which runs on schedules only.`,
          { extensions: { jobId: id, jobStatus: source.status } },
        );
      }
      const { job, created } = await retry(source, req);
      res
        .status(created ? 202 : 200)
        .location(jobPath(job.id))
        .json(jobResource(job));
    })
    .all(methodNotAllowed(['POST']));

  router
    .route('/v1/jobs/batch')
    .post(
      requireJsonBody(),
      express.json({ limit: options.config.BODY_LIMIT, strict: true, type: 'application/json' }),
      async (req, res) => {
        const { jobs: items } = parseRequestPart(batchBody, req.body, 'body');
        const results: BatchResult[] = new Array(items.length);
        const failed = (index: number, problem: ProblemError) => {
          results[index] = { status: problem.status, error: problemDetailsOf(problem, req) };
        };
        const valid: {
          index: number;
          request: ReturnType<typeof jobRequestOf>;
          idempotencyKey: string | undefined;
        }[] = [];
        for (const [index, item] of items.entries()) {
          try {
            // what checkJsonBody checks of a whole body, per item, so one item cannot fail the rest
            const unstorable = findProblem(item, MAX_BODY_DEPTH);
            if (unstorable) throw unstorable;
            const body = parseRequestPart(batchItem, item, 'body');
            valid.push({ index, request: jobRequestOf(body), idempotencyKey: body.idempotencyKey });
          } catch (error) {
            failed(index, withinItem(toProblemError(error), index));
          }
        }

        // one INSERT for every valid item, then one addBulk for the jobs still queued
        const outcomes = await jobs.createMany(
          valid.map(({ request, idempotencyKey }) => ({
            ...request,
            ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
          })),
        );
        const toEnqueue: { index: number; job: JobRecord }[] = [];
        for (const [position, outcome] of outcomes.entries()) {
          const { index, request, idempotencyKey } = valid[position] as (typeof valid)[number];
          if ('error' in outcome) {
            failed(index, withinItem(toProblemError(outcome.error), index));
          } else if (!outcome.created && !isSameRequest(outcome.job, request)) {
            failed(
              index,
              new ProblemError(
                'idempotency-key-reused',
                `Idempotency key "${idempotencyKey}" was first used for a different request (job ${outcome.job.id}). Use a new key for a new job.`,
                { extensions: { jobId: outcome.job.id, links: { job: jobPath(outcome.job.id) } } },
              ),
            );
          } else {
            results[index] = { status: outcome.created ? 202 : 200, job: jobResource(outcome.job) };
            if (outcome.job.status === 'queued') toEnqueue.push({ index, job: outcome.job });
          }
        }
        try {
          await callRedis('enqueue the jobs', options.redisTimeoutMs, () =>
            enqueueJobs(
              queue,
              // an item repeating an earlier item's key names the same job: it is added once
              [...new Map(toEnqueue.map(({ job }) => [job.id, job])).values()].map(enqueueInputOf),
              arrival ? { arrival } : {},
            ),
          );
        } catch (error) {
          if (!(error instanceof DependencyUnavailableError)) throw error;
          // the rows exist and stay queued: reconcile queues them once Redis is back
          for (const { index, job } of toEnqueue) {
            failed(
              index,
              new DependencyUnavailableError(
                'redis',
                `Job ${job.id} was recorded but could not be queued because Redis is unavailable. It stays queued and is queued automatically once Redis is back; posting the item again with the same idempotencyKey queues it sooner.`,
                {
                  cause: error.cause ?? error,
                  extensions: { jobMayExist: true, jobId: job.id, links: { job: jobPath(job.id) } },
                },
              ),
            );
          }
        }
        res.json({ results });
      },
    )
    .all(methodNotAllowed(['POST']));

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
   * Why a queued job has not started, from the worker's limits in Redis. Only a queued job that a
   * limit applies to can be waiting, so only its lookup costs a Redis call: the api runs with the
   * workers' limits (JOB_LIMITS must be the same for both, docs/environment.md). Without limits
   * given, the api cannot tell, and asks Redis about every queued job.
   */
  async function waitingFor(job: JobRecord): Promise<WaitingFor | null> {
    if (job.status !== 'queued') return null;
    if (options.limits && !limitApplies(options.limits, job.type, job.concurrencyKey)) return null;
    return callRedis('read why the job waits', options.redisTimeoutMs, () =>
      readWaitingFor(queue, options.redis, job.id),
    );
  }

  router
    .route('/v1/jobs/:id/cancel')
    .post(async (req, res) => {
      const { id } = parseRequestPart(jobIdParams, req.params, 'params');
      const outcome = await jobs.cancel(id, queuedJobRelease(req.log));
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
        // (a queued job's worker, which has not written `running` yet, is told the same way)
        await announce(jobCancelChannel(options.queuePrefix), id, req.log);
        res.status(202).location(jobPath(id)).json(jobResource(outcome.job));
        return;
      }
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
    tags: readonly string[];
    metadata: Record<string, unknown>;
    priority: number;
    ttl: number | null;
  },
): boolean {
  return (
    job.type === request.type &&
    job.concurrencyKey === request.concurrencyKey &&
    (job.tags ?? []).join(',') === request.tags.join(',') &&
    canonicalize(job.metadata) === canonicalize(request.metadata) &&
    job.priority === request.priority &&
    job.ttl === request.ttl &&
    job.maxAttempts === request.maxAttempts &&
    (job.runAt?.getTime() ?? null) === (request.runAt?.getTime() ?? null) &&
    canonicalize(job.payload) === canonicalize(request.payload)
  );
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
  tag?: readonly string[] | undefined;
  createdAfter?: Date | undefined;
  createdBefore?: Date | undefined;
  limit: number;
  cursor?: string | undefined;
}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (Array.isArray(value)) for (const item of value) params.append(name, String(item));
    else if (value instanceof Date) params.set(name, value.toISOString());
    else if (value !== undefined) params.set(name, String(value));
  }
  return `/v1/jobs?${params}`;
}

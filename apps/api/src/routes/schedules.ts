import type { JobRepository, ScheduleDefinition, ScheduleRepository } from '@repo/db';
import {
  type ArrivalOptions,
  announceScheduleChange,
  checkCron,
  DEFAULT_SCHEDULE_TIMEZONE,
  declaredSchedules,
  enqueueJob,
  type JobQueue,
  type JobType,
  jobTypes,
  type LimitsByType,
  parseJobPayload,
  resolveEnqueueableType,
  type ScheduleDeclaration,
} from '@repo/jobs';
import type { Logger } from '@repo/logger';
import express, { Router } from 'express';
import type { Redis } from 'ioredis';
import type { HttpConfig } from '../env.ts';
import { jobPath, jobResource } from '../job-resource.ts';
import { checkJsonBody } from '../middleware/check-json-body.ts';
import { methodNotAllowed } from '../middleware/method-not-allowed.ts';
import { requireJsonBody } from '../middleware/require-json-body.ts';
import {
  DependencyUnavailableError,
  ProblemError,
  ScheduleNotFoundError,
  ScheduleReadOnlyError,
  ValidationError,
} from '../problems.ts';
import { callRedis } from '../redis-availability.ts';
import { parseRequestPart } from '../request-validation.ts';
import { decodeScheduleCursor, encodeScheduleCursor } from '../schedule-list-cursor.ts';
import {
  apiScheduleView,
  codeScheduleView,
  type ScheduleView,
  schedulePath,
  scheduleResource,
} from '../schedule-resource.ts';
import { MAX_BODY_DEPTH } from './jobs.ts';
import {
  createScheduleBody,
  listSchedulesQuery,
  type ScheduleList,
  scheduleKeyParams,
  updateScheduleBody,
} from './schedules.contract.ts';

/** How often a PATCH re-reads and reapplies its change when another write got in between. */
const PATCH_ATTEMPTS = 3;

export interface SchedulesRouterOptions {
  schedules: ScheduleRepository;
  jobs: JobRepository;
  queue: JobQueue;
  /** The queue's connection: where changes are announced to beat. */
  redis: Redis;
  /** The queue prefix, which namespaces the announcements as it does the queue. */
  prefix: string;
  config: Pick<HttpConfig, 'BODY_LIMIT'>;
  redisTimeoutMs: number;
  /** The schedules declared in code; default @repo/jobs declaredSchedules. */
  declared?: readonly ScheduleDeclaration[];
  /**
   * The job types' limits, the workers': a triggered run of a type at its `maxConcurrent` is added
   * already parked (packages/jobs README: park on arrival). Runs carry no concurrency key.
   */
  limits?: LimitsByType;
  /** Counts a run added already parked, by type. */
  onParked?: (type: JobType) => void;
}

/**
 * /v1/schedules: the schedules declared in code (read-only here) and those defined through the
 * API (the schedules table, which beat applies to Redis). Every change is announced to beat,
 * which applies it at once rather than at its next resync.
 */
export function schedulesRouter(options: SchedulesRouterOptions): Router {
  const { schedules } = options;
  const arrival: ArrivalOptions | undefined = options.limits && {
    limits: options.limits,
    connection: options.redis,
    ...(options.onParked ? { onParked: options.onParked } : {}),
  };
  // by key in byte order (keys are ASCII): the order they are listed and paged in
  const declared = new Map(
    (options.declared ?? declaredSchedules)
      .map((declaration) => [declaration.id, codeScheduleView(declaration)] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  const router = Router();
  const jsonBody = [
    requireJsonBody(),
    express.json({ limit: options.config.BODY_LIMIT, strict: true, type: 'application/json' }),
    checkJsonBody(MAX_BODY_DEPTH),
  ];

  async function resources(views: readonly ScheduleView[]) {
    const lastJobs = await schedules.latestRuns(views.map((view) => view.key));
    const now = new Date();
    return views.map((view) => scheduleResource(view, lastJobs.get(view.key) ?? null, now));
  }

  /**
   * One page of the list: the code-declared schedules after the cursor, then, once those are
   * through, the API's after it (a row whose key code declares too is not applied, code wins, so
   * it is left out). Keyset pages, like the other lists: a schedule created or deleted meanwhile
   * does not shift the rest.
   */
  async function listPage(
    limit: number,
    cursor: string | undefined,
  ): Promise<{ views: ScheduleView[]; hasMore: boolean }> {
    const after = cursor === undefined ? undefined : decodeScheduleCursor(cursor);
    const code =
      after?.source === 'api'
        ? []
        : [...declared.values()].filter((view) => after === undefined || view.key > after.key);
    if (code.length > limit) return { views: code.slice(0, limit), hasMore: true };
    const page = await schedules.list({
      limit: limit - code.length,
      afterKey: after?.source === 'api' ? after.key : undefined,
      excludeKeys: [...declared.keys()],
    });
    return { views: [...code, ...page.schedules.map(apiScheduleView)], hasMore: page.hasMore };
  }

  async function findView(key: string): Promise<ScheduleView> {
    const code = declared.get(key);
    if (code) return code;
    const row = await schedules.findByKey(key);
    if (!row) throw new ScheduleNotFoundError(key);
    return apiScheduleView(row);
  }

  /**
   * Tells every beat to resync now. The change is committed already, so a failure here is not
   * the client's: beat applies it at its next periodic resync, and the answer stays a success.
   */
  async function announce(key: string, log: Logger): Promise<void> {
    try {
      await callRedis('announce the schedule change', options.redisTimeoutMs, () =>
        announceScheduleChange(options.redis, options.prefix, key),
      );
    } catch (error) {
      if (!(error instanceof DependencyUnavailableError)) throw error;
      log.warn(
        { err: error, key },
        'schedule change not announced; beat applies it at its next resync',
      );
    }
  }

  router
    .route('/v1/schedules')
    .get(async (req, res) => {
      const query = parseRequestPart(listSchedulesQuery, req.query, 'query');
      const { views, hasMore } = await listPage(query.limit, query.cursor);
      const last = views.at(-1);
      const nextCursor =
        hasMore && last ? encodeScheduleCursor({ source: last.source, key: last.key }) : null;
      const path = (cursor: string | undefined) =>
        `/v1/schedules?${new URLSearchParams({
          limit: String(query.limit),
          ...(cursor === undefined ? {} : { cursor }),
        })}`;
      const body: ScheduleList = {
        schedules: await resources(views),
        nextCursor,
        links: { self: path(query.cursor), next: nextCursor === null ? null : path(nextCursor) },
      };
      res.json(body);
    })
    .post(...jsonBody, async (req, res) => {
      const body = parseRequestPart(createScheduleBody, req.body, 'body');
      if (declared.has(body.key)) {
        throw new ProblemError(
          'schedule-exists',
          `Key "${body.key}" belongs to a schedule declared in code; choose another key.`,
          { extensions: { key: body.key, source: 'code' } },
        );
      }
      const definition = checkedDefinition({
        key: body.key,
        type: body.type,
        payload: body.payload,
        cron: body.cron ?? null,
        timezone: body.cron === undefined ? null : (body.timezone ?? DEFAULT_SCHEDULE_TIMEZONE),
        everySeconds: body.everySeconds ?? null,
        paused: body.paused ?? false,
        description: body.description ?? null,
      });
      const row = await schedules.create(definition);
      await announce(row.key, req.log);
      const [resource] = await resources([apiScheduleView(row)]);
      res.status(201).location(schedulePath(row.key)).json(resource);
    })
    .all(methodNotAllowed(['GET', 'HEAD', 'POST']));

  router
    .route('/v1/schedules/:key')
    .get(async (req, res) => {
      const { key } = parseRequestPart(scheduleKeyParams, req.params, 'params');
      const [resource] = await resources([await findView(key)]);
      res.json(resource);
    })
    .patch(...jsonBody, async (req, res) => {
      const { key } = parseRequestPart(scheduleKeyParams, req.params, 'params');
      const changes = parseRequestPart(updateScheduleBody, req.body, 'body');
      if (declared.has(key)) throw new ScheduleReadOnlyError(key, 'changed');
      for (let attempt = 1; attempt <= PATCH_ATTEMPTS; attempt += 1) {
        const current = await schedules.findByKey(key);
        if (!current) throw new ScheduleNotFoundError(key);
        const switchesToCron = changes.cron !== undefined;
        const switchesToEvery = changes.everySeconds !== undefined;
        const cronAfter = switchesToEvery ? null : (changes.cron ?? current.cron);
        if (changes.timezone !== undefined && cronAfter === null) {
          throw new ValidationError('The request body did not pass validation.', [
            {
              code: 'custom',
              path: ['body', 'timezone'],
              message: 'timezone applies to cron schedules only; this schedule runs everySeconds',
            },
          ]);
        }
        const { key: _key, ...definition } = checkedDefinition({
          key,
          type: changes.type ?? current.type,
          payload: changes.payload === undefined ? current.payload : changes.payload,
          cron: cronAfter,
          // a cron schedule keeps its time zone unless given one; one switching to cron gets UTC
          timezone:
            cronAfter === null
              ? null
              : (changes.timezone ??
                (current.cron === null ? null : current.timezone) ??
                DEFAULT_SCHEDULE_TIMEZONE),
          everySeconds: switchesToCron ? null : (changes.everySeconds ?? current.everySeconds),
          paused: changes.paused ?? current.paused,
          description:
            changes.description === undefined ? current.description : changes.description,
        });
        const outcome = await schedules.update(key, definition, { revision: current.revision });
        if (outcome.outcome === 'not_found') throw new ScheduleNotFoundError(key);
        if (outcome.outcome === 'updated') {
          await announce(key, req.log);
          const [resource] = await resources([apiScheduleView(outcome.schedule)]);
          res.json(resource);
          return;
        }
        // another write got in between: apply this change to what it wrote
      }
      throw new Error(`schedule "${key}" kept changing while it was being updated`);
    })
    .delete(async (req, res) => {
      const { key } = parseRequestPart(scheduleKeyParams, req.params, 'params');
      if (declared.has(key)) throw new ScheduleReadOnlyError(key, 'deleted');
      if (!(await schedules.delete(key))) throw new ScheduleNotFoundError(key);
      await announce(key, req.log);
      res.status(204).end();
    })
    .all(methodNotAllowed(['GET', 'HEAD', 'PATCH', 'DELETE']));

  router
    .route('/v1/schedules/:key/trigger')
    .post(async (req, res) => {
      const { key } = parseRequestPart(scheduleKeyParams, req.params, 'params');
      if (declared.has(key)) throw new ScheduleReadOnlyError(key, 'triggered');
      const row = await schedules.findByKey(key);
      if (!row) throw new ScheduleNotFoundError(key);
      // the normal path of a job: its row first (so it exists even if Redis fails now, and
      // reconcile queues it), then BullMQ under the row id
      const type = resolveEnqueueableType(row.type);
      const jobPayload = parseJobPayload(type, row.payload);
      const maxAttempts = jobTypes[type].options.attempts;
      const { job } = await options.jobs.create({
        type,
        payload: jobPayload,
        maxAttempts,
        schedulerId: key,
      });
      await callRedis('enqueue the job', options.redisTimeoutMs, () =>
        enqueueJob(
          options.queue,
          { id: job.id, type, payload: jobPayload, maxAttempts },
          arrival ? { arrival } : {},
        ),
      ).catch((error: unknown) => {
        if (!(error instanceof DependencyUnavailableError)) throw error;
        throw new DependencyUnavailableError(
          'redis',
          `Job ${job.id} was recorded but could not be queued because Redis is unavailable. It is queued automatically once Redis is back; do not trigger the schedule again for this run.`,
          { cause: error.cause ?? error, extensions: { jobId: job.id } },
        );
      });
      res.status(202).location(jobPath(job.id)).json(jobResource(job));
    })
    .all(methodNotAllowed(['POST']));

  return router;
}

/**
 * The definition as it will be stored, refused (400 naming the field) unless beat can run it: a
 * type clients may enqueue, a payload that type accepts (stored as parsed, as a job's is), a cron
 * expression that runs, in an IANA time zone.
 */
function checkedDefinition(definition: ScheduleDefinition): ScheduleDefinition {
  const parsed = parseJobPayload(resolveEnqueueableType(definition.type), definition.payload);
  if (definition.cron !== null) {
    checkCron(definition.cron, definition.timezone ?? DEFAULT_SCHEDULE_TIMEZONE);
  }
  return { ...definition, payload: parsed };
}

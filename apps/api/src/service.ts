import {
  createDb,
  createJobAttemptLog,
  createJobRepository,
  createScheduleRepository,
  createWebhookEndpointRepository,
  type Db,
  databaseHealthCheck,
  type JobAttemptLog,
  type JobRepository,
  type JobRepositoryOptions,
  prepareSchema,
  type ScheduleRepository,
  type WebhookEndpointRepository,
} from '@repo/db';
import { databaseOptions } from '@repo/db/env';
import { createHealth, type Health } from '@repo/health';
import {
  createJobQueue,
  createRedisConnection,
  isRedisUnavailableError,
  JOB_TYPE_NAMES,
  type JobQueue,
  jobEventsChannel,
  redisHealthChecks,
  resolveJobLimits,
} from '@repo/jobs';
import { createProcessMetrics, logRedisErrors, type RunningService } from '@repo/lifecycle';
import type { Logger } from '@repo/logger';
import {
  createDbBatchSizeMetric,
  createJobOperationMetrics,
  createParkedMetric,
} from '@repo/metrics';
import { secretBoxFor } from '@repo/webhooks/env';
import type { Express } from 'express';
import type { Redis } from 'ioredis';
import pTimeout from 'p-timeout';
import type { Registry } from 'prom-client';
import { createApp } from './app.ts';
import type { ApiConfig } from './env.ts';
import { createHttpServer, type HttpServer } from './http-server.ts';
import { createJobEventHub, type JobEventHub } from './live/job-event-hub.ts';

export interface ApiServiceOptions {
  version: string;
  /** Shown in pg_stat_activity and Redis CLIENT LIST; default "api". */
  connectionName?: string;
  /** Where to listen; default PORT and HOST from the config (port 0 picks a free one). */
  listen?: { port: number; host: string };
  /** The job repository's bounds (tests set small ones to reach them). */
  repository?: JobRepositoryOptions;
  /**
   * Default true: check the schema (or migrate, with MIGRATE_ON_START) before connecting. Tests
   * that migrated the database themselves, or made it unreachable on purpose, turn it off.
   */
  prepareSchema?: boolean;
  /** How often job event streams get a heartbeat; default 15 s (tests shorten it). */
  eventHeartbeatMs?: number;
}

/** The api, started: what main.ts runs, and what the tests drive over HTTP and inspect. */
export interface ApiService extends RunningService {
  readiness: Health;
  /** http://<host>:<port> of the listening server. */
  url: string;
  /** The Express app the server runs (its routes are what the OpenAPI document must describe). */
  app: Express;
  http: HttpServer;
  db: Db;
  jobs: JobRepository;
  schedules: ScheduleRepository;
  queue: JobQueue;
  redis: Redis;
  metrics: Registry;
  webhookEndpoints: WebhookEndpointRepository;
  jobAttempts: JobAttemptLog;
  jobEvents: JobEventHub;
}

/**
 * The api's one wiring: checks the schema, connects, listens. Readiness stays "starting" until
 * the caller (runService, or a test) turns it ready.
 */
export async function createApiService(
  config: Readonly<ApiConfig>,
  logger: Logger,
  options: ApiServiceOptions,
): Promise<ApiService> {
  const connectionName = options.connectionName ?? 'api';
  if (config.API_KEYS === undefined) {
    logger.warn('API_KEYS is not set: every /v1 request will be refused with 401');
  }
  if (options.prepareSchema !== false) {
    await prepareSchema(
      {
        databaseUrl: config.DATABASE_URL,
        connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT,
        migrateOnStart: config.MIGRATE_ON_START,
      },
      logger,
    );
  }
  const metrics = createProcessMetrics();
  const db = createDb({ ...databaseOptions(config), applicationName: connectionName });
  const jobs = createJobRepository(db, {
    ...options.repository,
    onBatch: createDbBatchSizeMetric(metrics),
  });
  const redis = createRedisConnection({
    url: config.REDIS_URL.reveal(),
    family: config.REDIS_FAMILY,
    // a request must not hang while Redis is down: it gets a 503 at once
    onOutage: 'fail-fast',
    connectionName,
  });
  const queue = createJobQueue(redis, config.QUEUE_PREFIX);
  logRedisErrors({
    logger,
    connection: redis,
    clients: { queue },
    isOutage: isRedisUnavailableError,
  });

  const health = createHealth({
    service: 'api',
    version: options.version,
    timeoutMs: config.HEALTH_CHECK_TIMEOUT,
    checks: [databaseHealthCheck(db), ...redisHealthChecks(redis)],
    logger,
  });

  const schedules = createScheduleRepository(db);
  const webhookEndpoints = createWebhookEndpointRepository(db);
  const jobAttempts = createJobAttemptLog(db);
  const operationMetrics = createJobOperationMetrics(metrics);
  const parked = createParkedMetric({ registry: metrics, types: JOB_TYPE_NAMES });
  // a subscribed connection can send nothing else; unlike the fail-fast one it waits out an
  // outage, and subscribes again when Redis is back
  const subscriber = redis.duplicate({
    connectionName: `${connectionName}-events`,
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
  });
  // an outage is logged once, by the main connection (logRedisErrors above)
  subscriber.on('error', (error: Error) => {
    if (!isRedisUnavailableError(error))
      logger.error({ err: error }, 'job events subscriber error');
  });
  const jobEvents = createJobEventHub({
    subscriber,
    channel: jobEventsChannel(config.QUEUE_PREFIX),
    jobs,
    logger,
    gauge: operationMetrics.eventStreams,
    ...(options.eventHeartbeatMs === undefined ? {} : { heartbeatMs: options.eventHeartbeatMs }),
  });
  // Without Redis the api still starts (and answers 503 where it needs it); event streams then
  // follow the rows on their heartbeat until the subscription is confirmed.
  await pTimeout(jobEvents.start(), { milliseconds: config.HEALTH_CHECK_TIMEOUT }).catch(
    (error: unknown) =>
      logger.warn({ err: error }, 'job event streams not subscribed yet; they follow the rows'),
  );
  const app = createApp({
    config,
    jobs,
    schedules,
    queue,
    redis,
    // an override of a job type that does not exist stops the api at start, as it does a worker
    limits: resolveJobLimits(config.JOB_LIMITS),
    onParked: (type) => parked(type, 'arrival'),
    logger,
    health,
    metrics,
    webhookEndpoints,
    jobAttempts,
    secretBox: secretBoxFor(config),
    jobEvents,
    onCancel: operationMetrics.cancelled,
  });
  const http = createHttpServer(app, config);
  const listen = options.listen ?? { port: config.PORT, host: config.HOST };
  const { port } = await http.listen(listen.port, listen.host);
  logger.info({ host: listen.host, port }, 'listening');
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;

  return {
    readiness: health,
    url: `http://${host}:${port}`,
    app,
    http,
    db,
    jobs,
    schedules,
    queue,
    redis,
    metrics,
    webhookEndpoints,
    jobAttempts,
    jobEvents,
    async drain() {
      // readiness is already 503 (runService turns it so on the signal), and the listener stays
      // open for SHUTDOWN_DRAIN_DELAY: load balancers take a while (a probe interval or two) to
      // stop sending new connections here, and closing the listener before that would refuse them
      http.closeConnectionsAfterEachResponse();
      logger.info({ delayMs: config.SHUTDOWN_DRAIN_DELAY }, 'draining: readiness is 503');
      await new Promise((resolve) => setTimeout(resolve, config.SHUTDOWN_DRAIN_DELAY));
    },
    async stop(deadline) {
      // open streams would hold the server until the deadline; ended, their clients reconnect
      // to a replica still in rotation
      await jobEvents.close();
      await http.stop(deadline);
      await queue.close();
      // QUIT needs a live connection; while Redis is down there is nothing to say goodbye to
      if (redis.status === 'ready') await redis.quit();
      else redis.disconnect();
      await db.disconnect();
    },
  };
}

import { hostname } from 'node:os';
import {
  createDb,
  createJobAttemptLog,
  createJobEventOutbox,
  createJobRepository,
  createWebhookEndpointRepository,
  type Db,
  databaseHealthCheck,
  type JobRepository,
  prepareSchema,
} from '@repo/db';
import { databaseOptions } from '@repo/db/env';
import { createHealth, type Health, type HealthServer, startHealthServer } from '@repo/health';
import {
  type ArrivalOptions,
  createFairScheduler,
  createJobEnqueuer,
  createJobQueue,
  createRedisConnection,
  type FairScheduler,
  isRedisUnavailableError,
  type JobQueue,
  jobCancelChannel,
  jobEventsChannel,
  redisHealthChecks,
  resolveJobLimits,
} from '@repo/jobs';
import { createProcessMetrics, logRedisErrors, type RunningService } from '@repo/lifecycle';
import type { Logger } from '@repo/logger';
import { secretBoxFor } from '@repo/webhooks/env';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { WorkerConfig } from './env.ts';
import { createHandlers } from './handlers/index.ts';
import { startJobEventRelay } from './job-event-relay.ts';
import { createJobProcessor, recordDeferredFailure, SHUTDOWN_REASON } from './job-processor.ts';
import { createJobWorker } from './job-worker.ts';
import { createCancellationListener } from './live/job-cancellation.ts';
import { createJobEventPublisher } from './live/job-event-publisher.ts';
import { createWorkerMetrics, type WorkerMetrics } from './metrics.ts';

/** How often a worker started before its deploy's migration checks whether it has finished. */
const SCHEMA_RETRY_INTERVAL_MS = 2_000;
/**
 * How often the job event outbox is read while it is empty: an event waits at most this long
 * before its deliveries are queued, at the cost of one small query per worker per interval.
 */
const JOB_EVENT_POLL_INTERVAL_MS = 1_000;

export interface WorkerServiceOptions {
  version: string;
  /** Shown in pg_stat_activity and Redis CLIENT LIST; default "worker". */
  connectionName?: string;
  /** Where the health server listens; default HEALTH_PORT and HEALTH_HOST (port 0 picks a free one). */
  healthServer?: { port: number; host: string };
}

/** The worker, started: what main.ts runs, and what the tests submit jobs to and inspect. */
export interface WorkerService extends RunningService {
  readiness: Health;
  healthServer: HealthServer;
  db: Db;
  jobs: JobRepository;
  queue: JobQueue;
  redis: Redis;
  worker: Worker;
  registry: Registry;
  metrics: WorkerMetrics;
  /** Concurrency and rate limits per job type and key (JOB_LIMITS over the contract's). */
  fair: FairScheduler;
}

/**
 * The worker's one wiring: connects, serves health, waits for the schema, starts fetching jobs.
 * Readiness stays "starting" until the caller (runService, or a test) turns it ready.
 */
export async function createWorkerService(
  config: Readonly<WorkerConfig>,
  logger: Logger,
  options: WorkerServiceOptions,
): Promise<WorkerService> {
  const connectionName = options.connectionName ?? 'worker';
  const db = createDb({
    ...databaseOptions(config),
    applicationName: connectionName,
    onIdleConnectionError: (error) => logger.warn({ err: error }, 'idle database connection lost'),
  });
  const registry = createProcessMetrics();
  const metrics = createWorkerMetrics(registry);
  // the host name names the worker on each attempt's row: a container's id in Docker
  const jobs = createJobRepository(db, { onBatch: metrics.dbBatchSize, workerId: hostname() });
  const attempts = createJobAttemptLog(db, { workerId: hostname() });
  const webhookEndpoints = createWebhookEndpointRepository(db);
  const secretBox = secretBoxFor(config);
  const redis = createRedisConnection({
    url: config.REDIS_URL.reveal(),
    family: config.REDIS_FAMILY,
    // BullMQ workers wait out an outage: a Redis restart only pauses them
    onOutage: 'wait-for-reconnect',
    connectionName,
  });
  const queue = createJobQueue(redis, config.QUEUE_PREFIX);

  const limits = resolveJobLimits(config.JOB_LIMITS);
  const fair = createFairScheduler({ queue, connection: redis, limits });
  // the jobs this worker adds (reconcile's re-adds, webhook deliveries) are parked on arrival
  // like the api's, by the same limits
  const arrival: ArrivalOptions = {
    limits,
    connection: redis,
    onParked: (type) => metrics.jobs.parked(type, 'arrival'),
  };
  // a subscribed connection can send nothing else, so cancellations get one of their own
  const subscriber = redis.duplicate({ connectionName: `${connectionName}-cancel` });
  // an outage is logged once, by the main connection (logRedisErrors below)
  subscriber.on('error', (error: Error) => {
    if (!isRedisUnavailableError(error))
      logger.error({ err: error }, 'cancellation subscriber error');
  });
  const cancellation = createCancellationListener({
    subscriber,
    channel: jobCancelChannel(config.QUEUE_PREFIX),
    jobs,
    logger,
  });
  // announcements get a connection of their own: a pipeline made from the main connection would
  // copy the 64 scripts BullMQ and the fair scheduler define on it (see the publisher)
  const announcer = redis.duplicate({ connectionName: `${connectionName}-events` });
  // an outage is logged once, by the main connection (logRedisErrors below)
  announcer.on('error', (error: Error) => {
    if (!isRedisUnavailableError(error)) logger.error({ err: error }, 'job event publisher error');
  });
  const events = createJobEventPublisher({
    redis: announcer,
    channel: jobEventsChannel(config.QUEUE_PREFIX),
    logger,
  });
  const processor = createJobProcessor({
    jobs,
    handlers: createHandlers({
      config,
      jobs,
      queue,
      webhookMetrics: metrics.webhooks,
      webhookEndpoints,
      secretBox,
      arrival,
    }),
    attempts,
    logger,
    metrics,
    fair,
    cancellation,
    events,
    runningStatusDelayMs: config.JOB_RUNNING_STATUS_DELAY,
  });
  const worker = createJobWorker({
    connection: redis,
    prefix: config.QUEUE_PREFIX,
    config,
    processor,
  });
  // the worker's blocking connection fails along with this one: the outage is logged once
  logRedisErrors({
    logger,
    connection: redis,
    clients: { queue, worker },
    isOutage: isRedisUnavailableError,
  });
  worker.on('stalled', (queueJobId) =>
    logger.warn(
      { queueJobId },
      'job stalled: its worker stopped renewing the lock; back in the queue',
    ),
  );
  const recordFailure = recordDeferredFailure({ jobs, logger, metrics, fair, events });
  worker.on('failed', (job) => {
    recordFailure(job).catch((error: unknown) =>
      logger.error(
        { err: error, queueJobId: job?.id },
        'could not record a failure on the job row',
      ),
    );
  });

  const health = createHealth({
    service: 'worker',
    version: options.version,
    timeoutMs: config.HEALTH_CHECK_TIMEOUT,
    checks: [databaseHealthCheck(db), ...redisHealthChecks(redis)],
    logger,
  });
  const listen = options.healthServer ?? { port: config.HEALTH_PORT, host: config.HEALTH_HOST };
  const healthServer = await startHealthServer({ health, ...listen, metrics: registry, logger });

  // A deploy may start this worker before its migration has finished (the api's and the
  // worker's pre-deploy steps, a migrate service): it waits, not ready and fetching no job,
  // instead of exiting and being restarted.
  await prepareSchema(
    {
      databaseUrl: config.DATABASE_URL,
      connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT,
      migrateOnStart: config.MIGRATE_ON_START,
      waitForMigrations: { retryIntervalMs: SCHEMA_RETRY_INTERVAL_MS },
    },
    logger,
  );
  const eventRelay = startJobEventRelay({
    outbox: createJobEventOutbox(db),
    endpoints: webhookEndpoints,
    jobs,
    enqueue: createJobEnqueuer(queue, { arrival }),
    logger,
    intervalMs: JOB_EVENT_POLL_INTERVAL_MS,
  });
  // subscribed before the first job starts: a cancellation published from then on reaches it
  await cancellation.start();
  const running = worker.run();
  running.catch((error: unknown) => logger.fatal({ err: error }, 'worker loop ended'));
  await worker.waitUntilReady();

  return {
    readiness: health,
    healthServer,
    db,
    jobs,
    queue,
    redis,
    worker,
    registry,
    metrics,
    fair,
    async stop(deadline) {
      // worker.close() waits for active jobs without a limit of its own; at the deadline the
      // jobs still running are cancelled and go back to the queue (see job-processor.ts).
      const cancel = () => worker.cancelAllJobs(SHUTDOWN_REASON);
      deadline.addEventListener('abort', cancel, { once: true });
      await worker.close();
      deadline.removeEventListener('abort', cancel);
      // after the worker: the last jobs' events are relayed by another worker, or after a restart
      await eventRelay.stop();
      await cancellation.close();
      await events.drain();
      await announcer.quit();
      await queue.close();
      await redis.quit();
      await db.disconnect();
      await healthServer.close();
    },
  };
}

import { hostname } from 'node:os';
import { workerServiceEnv } from '@repo/config';
import { createDb, createJobRepository, prepareSchema } from '@repo/db';
import { createHealth, startHealthServer } from '@repo/health';
import {
  checkRedisEvictionPolicy,
  createJobQueue,
  createRedisConnection,
  isRedisUnavailableError,
  pingRedis,
} from '@repo/jobs';
import { readPackageVersion, runService } from '@repo/lifecycle';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createHandlers } from './handlers/index.ts';
import { createJobProcessor, recordDeferredFailure, SHUTDOWN_REASON } from './job-processor.ts';
import { createJobWorker } from './job-worker.ts';
import { createWorkerMetrics } from './metrics.ts';

const version = readPackageVersion(new URL('../package.json', import.meta.url));

/** How often a worker started before its deploy's migration checks whether it has finished. */
const SCHEMA_RETRY_INTERVAL_MS = 2_000;

await runService({
  service: 'worker',
  version,
  envSchema: workerServiceEnv,
  async start({ config, logger }) {
    const db = createDb(config, {
      applicationName: 'worker',
      onIdleConnectionError: (error) =>
        logger.warn({ err: error }, 'idle database connection lost'),
    });
    // the host name names the worker on each attempt's row: a container's id in Docker
    const jobs = createJobRepository(db, { workerId: hostname() });
    const connection = createRedisConnection(config, 'worker', 'worker');
    connection.on('error', (error) => logger.warn({ err: error }, 'redis connection error'));
    const queue = createJobQueue(connection, config.QUEUE_PREFIX);
    // BullMQ repeats the connection's errors on the queue and the worker (whose blocking
    // connection fails along with this one): the outage is logged just above, once
    queue.on('error', (error) => {
      if (!isRedisUnavailableError(error)) logger.error({ err: error }, 'queue error');
    });

    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const metrics = createWorkerMetrics(registry);
    const processor = createJobProcessor({
      jobs,
      handlers: createHandlers({ config, jobs, queue }),
      logger,
      metrics,
    });
    const worker = createJobWorker({ connection, prefix: config.QUEUE_PREFIX, config, processor });
    worker.on('error', (error) => {
      if (!isRedisUnavailableError(error)) logger.error({ err: error }, 'worker error');
    });
    worker.on('stalled', (queueJobId) =>
      logger.warn(
        { queueJobId },
        'job stalled: its worker stopped renewing the lock; back in the queue',
      ),
    );
    const recordFailure = recordDeferredFailure({ jobs, logger, metrics });
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
      version,
      timeoutMs: config.HEALTH_CHECK_TIMEOUT,
      checks: [
        { name: 'database', run: () => db.ping() },
        { name: 'redis', run: () => pingRedis(connection) },
        { name: 'redis_eviction_policy', run: () => checkRedisEvictionPolicy(connection) },
      ],
      logger,
    });
    const server = await startHealthServer({
      health,
      port: config.HEALTH_PORT,
      host: config.HEALTH_HOST,
      metrics: registry,
      logger,
    });

    // A deploy may start this worker before its migration has finished (the api's and the
    // worker's pre-deploy steps, a migrate service): it waits, not ready and fetching no job,
    // instead of exiting and being restarted.
    await prepareSchema(config, logger, {
      waitForMigrations: { retryIntervalMs: SCHEMA_RETRY_INTERVAL_MS },
    });
    const running = worker.run();
    running.catch((error: unknown) => logger.fatal({ err: error }, 'worker loop ended'));
    await worker.waitUntilReady();
    health.setLifecycle('ready');

    return {
      async stop(deadline) {
        health.setLifecycle('stopping');
        // worker.close() waits for active jobs without a limit of its own; at the deadline the
        // jobs still running are cancelled and go back to the queue (see job-processor.ts).
        const cancel = () => worker.cancelAllJobs(SHUTDOWN_REASON);
        deadline.addEventListener('abort', cancel, { once: true });
        await worker.close();
        deadline.removeEventListener('abort', cancel);
        await queue.close();
        await connection.quit();
        await db.disconnect();
        await server.close();
      },
    };
  },
});

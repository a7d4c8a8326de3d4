import { apiEnv } from '@repo/config';
import { createDb, createJobRepository, prepareSchema } from '@repo/db';
import { createHealth } from '@repo/health';
import {
  checkRedisEvictionPolicy,
  createJobQueue,
  createRedisConnection,
  isRedisUnavailableError,
  pingRedis,
} from '@repo/jobs';
import { readPackageVersion, runService } from '@repo/lifecycle';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createApp } from './app.ts';
import { createHttpServer } from './http-server.ts';

const version = readPackageVersion(new URL('../package.json', import.meta.url));

await runService({
  service: 'api',
  version,
  envSchema: apiEnv,
  async start({ config, logger }) {
    if (config.API_KEYS === undefined) {
      logger.warn('API_KEYS is not set: every /v1 request will be refused with 401');
    }
    await prepareSchema(config, logger);
    const db = createDb(config, { applicationName: 'api' });
    const jobs = createJobRepository(db);
    const redis = createRedisConnection(config, 'producer', 'api');
    redis.on('error', (error) => logger.warn({ err: error }, 'redis connection error'));
    const queue = createJobQueue(redis, config.QUEUE_PREFIX);
    // BullMQ repeats the connection's errors on the queue, and those are logged just above
    queue.on('error', (error) => {
      if (!isRedisUnavailableError(error)) logger.error({ err: error }, 'queue error');
    });

    const metrics = new Registry();
    collectDefaultMetrics({ register: metrics });
    const health = createHealth({
      service: 'api',
      version,
      timeoutMs: config.HEALTH_CHECK_TIMEOUT,
      checks: [
        { name: 'database', run: () => db.ping() },
        { name: 'redis', run: () => pingRedis(redis) },
        { name: 'redis_eviction_policy', run: () => checkRedisEvictionPolicy(redis) },
      ],
      logger,
    });

    const app = createApp({ config, jobs, queue, redis, logger, health, metrics });
    const http = createHttpServer(app, config);
    const { port } = await http.listen(config.PORT, config.HOST);
    logger.info({ host: config.HOST, port }, 'listening');
    health.setLifecycle('ready');

    return {
      async drain() {
        // readiness fails first, and the listener stays open for SHUTDOWN_DRAIN_DELAY: load
        // balancers take a while (a probe interval or two) to stop sending new connections here,
        // and closing the listener before that would refuse them
        health.setLifecycle('stopping');
        http.closeConnectionsAfterEachResponse();
        logger.info({ delayMs: config.SHUTDOWN_DRAIN_DELAY }, 'draining: readiness is 503');
        await new Promise((resolve) => setTimeout(resolve, config.SHUTDOWN_DRAIN_DELAY));
      },
      async stop(deadline) {
        health.setLifecycle('stopping');
        await http.stop(deadline);
        await queue.close();
        // QUIT needs a live connection; while Redis is down there is nothing to say goodbye to
        if (redis.status === 'ready') await redis.quit();
        else redis.disconnect();
        await db.disconnect();
      },
    };
  },
});

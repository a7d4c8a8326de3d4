import { beatServiceEnv } from '@repo/config';
import { createHealth, startHealthServer } from '@repo/health';
import {
  checkRedisEvictionPolicy,
  createJobQueue,
  createRedisConnection,
  isRedisUnavailableError,
  pingRedis,
} from '@repo/jobs';
import { readPackageVersion, runService } from '@repo/lifecycle';
import { Counter, collectDefaultMetrics, Registry } from 'prom-client';
import { startScheduleSync } from './schedule-sync.ts';
import { schedules } from './schedules.ts';

const version = readPackageVersion(new URL('../package.json', import.meta.url));

await runService({
  service: 'beat',
  version,
  envSchema: beatServiceEnv,
  async start({ config, logger }) {
    const redis = createRedisConnection(config, 'worker', 'beat');
    redis.on('error', (error) => logger.warn({ err: error }, 'redis connection error'));
    const queue = createJobQueue(redis, config.QUEUE_PREFIX);
    // BullMQ repeats the connection's errors on the queue, and those are logged just above
    queue.on('error', (error) => {
      if (!isRedisUnavailableError(error)) logger.error({ err: error }, 'queue error');
    });

    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const syncs = new Counter({
      name: 'beat_schedule_syncs_total',
      help: 'Schedule syncs by result: ok, superseded (a beat with a newer list runs; nothing changed), error',
      labelNames: ['result'] as const,
      registers: [registry],
    });

    const health = createHealth({
      service: 'beat',
      version,
      timeoutMs: config.HEALTH_CHECK_TIMEOUT,
      checks: [
        { name: 'redis', run: () => pingRedis(redis) },
        { name: 'redis_eviction_policy', run: () => checkRedisEvictionPolicy(redis) },
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

    const sync = startScheduleSync({
      queue,
      redis,
      prefix: config.QUEUE_PREFIX,
      schedules,
      intervalMs: config.BEAT_RESYNC_INTERVAL,
      logger,
      syncs,
    });
    await sync.firstSync;
    health.setLifecycle('ready');

    return {
      async stop() {
        health.setLifecycle('stopping');
        await sync.stop();
        await queue.close();
        await redis.quit();
        await server.close();
      },
    };
  },
});

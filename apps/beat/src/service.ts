import { createHealth, type Health, type HealthServer, startHealthServer } from '@repo/health';
import {
  createJobQueue,
  createRedisConnection,
  isRedisUnavailableError,
  type JobQueue,
  redisHealthChecks,
  type ScheduleDeclaration,
} from '@repo/jobs';
import { createProcessMetrics, logRedisErrors, type RunningService } from '@repo/lifecycle';
import type { Logger } from '@repo/logger';
import type { Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import type { BeatConfig } from './env.ts';
import { startScheduleSync } from './schedule-sync.ts';
import { schedules as declaredSchedules } from './schedules.ts';

export interface BeatServiceOptions {
  version: string;
  /** Shown in Redis CLIENT LIST; default "beat". */
  connectionName?: string;
  /** Where the health server listens; default HEALTH_PORT and HEALTH_HOST (port 0 picks a free one). */
  healthServer?: { port: number; host: string };
  /** The schedules to keep in Redis; default the declared ones (src/schedules.ts). */
  schedules?: readonly ScheduleDeclaration[];
}

/** Beat, started: what main.ts runs. */
export interface BeatService extends RunningService {
  readiness: Health;
  healthServer: HealthServer;
  queue: JobQueue;
  redis: Redis;
  registry: Registry;
}

/**
 * Beat's one wiring: connects, serves health, applies the schedules once and keeps them applied.
 * Readiness stays "starting" until the caller (runService, or a test) turns it ready.
 */
export async function createBeatService(
  config: Readonly<BeatConfig>,
  logger: Logger,
  options: BeatServiceOptions,
): Promise<BeatService> {
  const redis = createRedisConnection({
    url: config.REDIS_URL.reveal(),
    family: config.REDIS_FAMILY,
    // beat has no caller waiting on it: it rides out an outage and syncs when Redis is back
    onOutage: 'wait-for-reconnect',
    connectionName: options.connectionName ?? 'beat',
  });
  const queue = createJobQueue(redis, config.QUEUE_PREFIX);
  logRedisErrors({
    logger,
    connection: redis,
    clients: { queue },
    isOutage: isRedisUnavailableError,
  });

  const registry = createProcessMetrics();
  const syncs = new Counter({
    name: 'beat_schedule_syncs_total',
    help: 'Schedule syncs by result: ok, superseded (a beat with a newer list runs; nothing changed), error',
    labelNames: ['result'] as const,
    registers: [registry],
  });

  const health = createHealth({
    service: 'beat',
    version: options.version,
    timeoutMs: config.HEALTH_CHECK_TIMEOUT,
    checks: redisHealthChecks(redis),
    logger,
  });
  const listen = options.healthServer ?? { port: config.HEALTH_PORT, host: config.HEALTH_HOST };
  const healthServer = await startHealthServer({ health, ...listen, metrics: registry, logger });

  const sync = startScheduleSync({
    queue,
    redis,
    prefix: config.QUEUE_PREFIX,
    schedules: options.schedules ?? declaredSchedules,
    intervalMs: config.BEAT_RESYNC_INTERVAL,
    logger,
    syncs,
  });
  await sync.firstSync;

  return {
    readiness: health,
    healthServer,
    queue,
    redis,
    registry,
    async stop() {
      await sync.stop();
      await queue.close();
      await redis.quit();
      await healthServer.close();
    },
  };
}

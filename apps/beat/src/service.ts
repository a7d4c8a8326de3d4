import { createDb, createScheduleRepository, type Db, prepareSchema } from '@repo/db';
import { databaseOptions } from '@repo/db/env';
import { createHealth, type Health, type HealthServer, startHealthServer } from '@repo/health';
import {
  createJobQueue,
  createRedisConnection,
  declaredSchedules,
  isRedisUnavailableError,
  type JobQueue,
  redisHealthChecks,
  type ScheduleDeclaration,
  watchScheduleChanges,
} from '@repo/jobs';
import { createProcessMetrics, logRedisErrors, type RunningService } from '@repo/lifecycle';
import type { Logger } from '@repo/logger';
import type { Redis } from 'ioredis';
import { Counter, Gauge, type Registry } from 'prom-client';
import { loadDefinedSchedules } from './defined-schedules.ts';
import type { BeatConfig } from './env.ts';
import { LEFT_OUT_REASONS, startScheduleSync } from './schedule-sync.ts';

export interface BeatServiceOptions {
  version: string;
  /** Shown in Redis CLIENT LIST; default "beat". */
  connectionName?: string;
  /** Where the health server listens; default HEALTH_PORT and HEALTH_HOST (port 0 picks a free one). */
  healthServer?: { port: number; host: string };
  /** The schedules to keep in Redis besides the API's; default those declared in code (@repo/jobs declaredSchedules). */
  schedules?: readonly ScheduleDeclaration[];
}

/** How often beat checks again whether the migrations it needs have been applied. */
const SCHEMA_RETRY_INTERVAL_MS = 2_000;

/** Beat, started: what main.ts runs. */
export interface BeatService extends RunningService {
  readiness: Health;
  healthServer: HealthServer;
  queue: JobQueue;
  redis: Redis;
  db: Db;
  registry: Registry;
  /** Syncs now (what a change announced through Redis does). */
  resync(): void;
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
  const connectionName = options.connectionName ?? 'beat';
  const db = createDb({
    ...databaseOptions(config),
    applicationName: connectionName,
    onIdleConnectionError: (error) => logger.warn({ err: error }, 'idle database connection lost'),
  });
  const redisOptions = {
    url: config.REDIS_URL.reveal(),
    family: config.REDIS_FAMILY,
    // beat has no caller waiting on it: it rides out an outage and syncs when Redis is back
    onOutage: 'wait-for-reconnect',
  } as const;
  const redis = createRedisConnection({ ...redisOptions, connectionName });
  // a subscribed connection runs no other command, so the change announcements get their own
  const subscriber = createRedisConnection({
    ...redisOptions,
    connectionName: `${connectionName}-changes`,
  });
  const queue = createJobQueue(redis, config.QUEUE_PREFIX);
  logRedisErrors({
    logger,
    connection: redis,
    clients: { queue },
    isOutage: isRedisUnavailableError,
  });
  logRedisErrors({
    logger,
    connection: subscriber,
    clients: {},
    isOutage: isRedisUnavailableError,
  });

  const registry = createProcessMetrics();
  const syncs = new Counter({
    name: 'beat_schedule_syncs_total',
    help: 'Schedule syncs by result: ok, superseded (a beat with a newer list runs; nothing changed), error',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const leftOut = new Gauge({
    name: 'beat_schedules_left_out',
    help: 'Schedules defined through the API that the last sync left out of Redis, by reason: invalid (a type or payload this build refuses), declared-in-code (code declares the key)',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  for (const reason of LEFT_OUT_REASONS) leftOut.set({ reason }, 0);

  const health = createHealth({
    service: 'beat',
    version: options.version,
    timeoutMs: config.HEALTH_CHECK_TIMEOUT,
    // No database check: while PostgreSQL is away the schedules in Redis keep firing, and only
    // changes wait (syncs fail, are logged and counted, and retried); api and worker report it.
    checks: redisHealthChecks(redis),
    logger,
  });
  const listen = options.healthServer ?? { port: config.HEALTH_PORT, host: config.HEALTH_HOST };
  const healthServer = await startHealthServer({ health, ...listen, metrics: registry, logger });

  // A deploy may start this beat before the migration adding the schedules table has run: it
  // waits, not ready and changing nothing in Redis, instead of exiting and being restarted.
  await prepareSchema(
    {
      databaseUrl: config.DATABASE_URL,
      connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT,
      migrateOnStart: false,
      waitForMigrations: { retryIntervalMs: SCHEMA_RETRY_INTERVAL_MS },
    },
    logger,
  );

  const sync = startScheduleSync({
    queue,
    redis,
    prefix: config.QUEUE_PREFIX,
    schedules: options.schedules ?? declaredSchedules,
    loadDefined: loadDefinedSchedules(createScheduleRepository(db)),
    intervalMs: config.BEAT_RESYNC_INTERVAL,
    logger,
    syncs,
    leftOut,
  });
  // the api announces every change it commits; the periodic resync covers any announcement
  // missed (this connection down, beat starting)
  await watchScheduleChanges(subscriber, config.QUEUE_PREFIX, (key) => {
    logger.debug({ key }, 'schedule changed through the API; syncing');
    sync.resync();
  });
  await sync.firstSync;

  return {
    readiness: health,
    healthServer,
    queue,
    redis,
    db,
    registry,
    resync: () => sync.resync(),
    async stop() {
      await sync.stop();
      subscriber.disconnect();
      await queue.close();
      await redis.quit();
      await db.disconnect();
      await healthServer.close();
    },
  };
}

import { Writable } from 'node:stream';
import { type ApiConfig, apiEnv, type Env, loadConfig } from '@repo/config';
import { createDb, createJobRepository, type Db, type JobRepository, migrate } from '@repo/db';
import { createHealth, type Health } from '@repo/health';
import { createJobQueue, createRedisConnection, type JobQueue, pingRedis } from '@repo/jobs';
import { createLogger, type Logger } from '@repo/logger';
import {
  createTestDatabase,
  createTestRedisPrefix,
  TEST_REDIS_URL,
  type TestDatabase,
  type TestRedisPrefix,
} from '@repo/testing';
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { createApp } from '../app.ts';
import { createHttpServer, type HttpServer } from '../http-server.ts';

export const TEST_API_KEY = 'test-api-key-0123456789abcdef';
export const ROTATED_API_KEY = 'rotated-api-key-0123456789abcdef';
export const TEST_METRICS_TOKEN = 'test-metrics-token-0123456789';
export const TEST_ADMIN = { username: 'admin', password: 'test-admin-password' };

export interface ApiUnderTest {
  /** http://127.0.0.1:<port> of the listening server. */
  url: string;
  http: HttpServer;
  config: Readonly<ApiConfig>;
  db: Db;
  jobs: JobRepository;
  queue: JobQueue;
  redis: Redis;
  prefix: string;
  health: Health;
  metrics: Registry;
  /** Every log line written so far, parsed. */
  logs(): Record<string, unknown>[];
  close(): Promise<void>;
}

export interface ApiUnderTestOptions {
  /** Environment variables on top of the test defaults. */
  env?: Env;
  /** Reuse a database (already migrated) instead of creating one. */
  database?: TestDatabase;
  /** The job repository's bound on creates waiting for their INSERT (a small one to test it). */
  createMaxWaiting?: number;
}

/**
 * The real app on an ephemeral port, with its own PostgreSQL database and Redis prefix: what
 * main.ts wires, minus the process. Each test file gets its own, so files run in parallel.
 */
export async function startApiUnderTest(
  label: string,
  options: ApiUnderTestOptions = {},
): Promise<ApiUnderTest> {
  const ownDatabase = options.database === undefined;
  const database = options.database ?? (await createTestDatabase(label));
  const keys: TestRedisPrefix = createTestRedisPrefix(label);
  const config = loadConfig(apiEnv, {
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    DATABASE_URL: database.url,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: keys.prefix,
    API_KEYS: `${TEST_API_KEY},${ROTATED_API_KEY}`,
    METRICS_TOKEN: TEST_METRICS_TOKEN,
    ADMIN_USERNAME: TEST_ADMIN.username,
    ADMIN_PASSWORD: TEST_ADMIN.password,
    ...options.env,
  });
  if (ownDatabase) await migrate({ databaseUrl: database.url });

  const lines: string[] = [];
  const logger: Logger = await createLogger({
    service: 'api',
    version: 'test',
    config,
    destination: new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    }),
  });

  const db = createDb(config, { applicationName: `api-test-${label}` });
  const jobs = createJobRepository(
    db,
    options.createMaxWaiting === undefined ? {} : { createMaxWaiting: options.createMaxWaiting },
  );
  const redis = createRedisConnection(config, 'producer', `api-test-${label}`);
  redis.on('error', () => {
    // connection errors surface as failed commands, which the tests look at
  });
  const queue = createJobQueue(redis, config.QUEUE_PREFIX);
  queue.on('error', () => {
    // BullMQ repeats the connection's errors here; without a listener it prints them
  });
  const metrics = new Registry();
  const health = createHealth({
    service: 'api',
    version: 'test',
    timeoutMs: config.HEALTH_CHECK_TIMEOUT,
    checks: [
      { name: 'database', run: () => db.ping() },
      { name: 'redis', run: () => pingRedis(redis) },
    ],
  });
  // the producer connection has no offline queue: commands sent before it is ready fail, which
  // would make the first readiness probe of a test flaky
  if (config.REDIS_URL.reveal() === TEST_REDIS_URL) await queue.waitUntilReady();
  const app = createApp({ config, jobs, queue, redis, logger, health, metrics });
  const http = createHttpServer(app, config);
  const { port } = await http.listen(0, '127.0.0.1');
  health.setLifecycle('ready');

  return {
    url: `http://127.0.0.1:${port}`,
    http,
    config,
    db,
    jobs,
    queue,
    redis,
    prefix: keys.prefix,
    health,
    metrics,
    logs: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    async close() {
      await http.stop(AbortSignal.timeout(5_000));
      await queue.close();
      redis.disconnect();
      await db.disconnect();
      await keys.cleanup();
      if (ownDatabase) await database.drop();
    },
  };
}

export const auth = { Authorization: `Bearer ${TEST_API_KEY}` } as const;

import { type Env, loadConfig } from '@repo/config';
import { migrate } from '@repo/db';
import { createLogger, type Logger } from '@repo/logger';
import {
  captureJsonLines,
  createTestDatabase,
  createTestRedisPrefix,
  TEST_REDIS_URL,
  type TestDatabase,
  type TestRedisPrefix,
} from '@repo/testing';
import { type ApiConfig, apiEnv } from '../env.ts';
import { type ApiService, createApiService } from '../service.ts';

export const TEST_API_KEY = 'test-api-key-0123456789abcdef';
export const ROTATED_API_KEY = 'rotated-api-key-0123456789abcdef';
export const TEST_METRICS_TOKEN = 'test-metrics-token-0123456789';
export const TEST_ADMIN = { username: 'admin', password: 'test-admin-password' };
/** Seals the endpoints' signing secrets (base64 of 32 bytes); `WEBHOOK_SECRETS_KEY: ''` unsets it. */
export const TEST_WEBHOOK_SECRETS_KEY = Buffer.alloc(32, 0xa7).toString('base64');

export interface ApiUnderTest extends ApiService {
  config: Readonly<ApiConfig>;
  prefix: string;
  /** Its database: another api started with it is a second replica of this one. */
  database: TestDatabase;
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
  /** How often job event streams get a heartbeat (a short one to see it). */
  eventHeartbeatMs?: number;
}

/**
 * The api's own wiring (createApiService) on an ephemeral port, with its own PostgreSQL database
 * and Redis prefix. Each test file gets its own, so files run in parallel.
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
    WEBHOOK_SECRETS_KEY: TEST_WEBHOOK_SECRETS_KEY,
    ...options.env,
  });
  if (ownDatabase) await migrate({ databaseUrl: database.url });

  const logs = captureJsonLines();
  const logger: Logger = await createLogger({
    service: 'api',
    version: 'test',
    config,
    destination: logs.destination,
  });

  const service = await createApiService(config, logger, {
    version: 'test',
    connectionName: `api-test-${label}`,
    listen: { port: 0, host: '127.0.0.1' },
    // migrated above (or by the test that shares its database); some tests make it unreachable
    prepareSchema: false,
    ...(options.createMaxWaiting === undefined
      ? {}
      : { repository: { createMaxWaiting: options.createMaxWaiting } }),
    ...(options.eventHeartbeatMs === undefined
      ? {}
      : { eventHeartbeatMs: options.eventHeartbeatMs }),
  });
  // the producer connection has no offline queue: commands sent before it is ready fail, which
  // would make the first readiness probe of a test flaky
  if (config.REDIS_URL.reveal() === TEST_REDIS_URL) await service.queue.waitUntilReady();
  service.readiness.setLifecycle('ready');

  return {
    ...service,
    config,
    // the test's own, unless the environment shares another api's (a second replica)
    prefix: config.QUEUE_PREFIX,
    database,
    logs: () => [...logs.lines],
    async close() {
      await service.stop(AbortSignal.timeout(5_000));
      await keys.cleanup();
      if (ownDatabase) await database.drop();
    },
  };
}

export const auth = { Authorization: `Bearer ${TEST_API_KEY}` } as const;

import { migrate } from '@repo/db';
import {
  createTestDatabase,
  createTestRedisPrefix,
  freePort,
  type ServiceProcess,
  startServiceProcess,
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
  type TestDatabase,
  type TestRedisPrefix,
} from '@repo/testing';
import { type App, paths } from './paths.ts';

export const BENCH_API_KEY = 'bench-api-key-0123456789abcdef';
export const BENCH_SIGNING_SECRET = 'whsec_xqF7KONK8P1LvllXiWFarANYPUsbWmrotD1y3WEnbxI=';
/** WEBHOOK_SECRETS_KEY, which api and worker require in production: 32 bytes, base64. */
export const BENCH_SECRETS_KEY = 'am9ic3RhY2sgYmVuY2ggc2VjcmV0cyBrZXkgMzIgYiE=';
export { TEST_DATABASE_URL, TEST_REDIS_URL };

/** A migrated database and a Redis prefix of the bench's own, removed by `drop()`. */
export interface BenchData {
  database: TestDatabase;
  keys: TestRedisPrefix;
  drop(): Promise<void>;
}

export async function createBenchData(label: string): Promise<BenchData> {
  const database = await createTestDatabase(`bench_${label}`);
  await migrate({ databaseUrl: database.url });
  const keys = createTestRedisPrefix(`bench-${label}`);
  return {
    database,
    keys,
    async drop() {
      await keys.cleanup();
      await database.drop();
    },
  };
}

export interface RunningApp {
  app: App;
  process: ServiceProcess;
  /** http://127.0.0.1:<port> of its HTTP server (the api) or health server (worker, beat). */
  url: string;
  port: number;
}

/**
 * Starts an app as production runs it: `node --import apps/<app>/dist/tracing.js
 * apps/<app>/dist/main.js`, NODE_ENV=production, the production log level and format (JSON at
 * info), on loopback. Tracing stays off unless `env` sets OTEL_EXPORTER_OTLP_ENDPOINT.
 */
export async function startApp(
  app: App,
  data: BenchData,
  env: Record<string, string> = {},
  nodeArgs: readonly string[] = [],
): Promise<RunningApp> {
  const port = await freePort();
  const common = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: data.keys.prefix,
    WEBHOOK_SECRETS_KEY: BENCH_SECRETS_KEY,
  };
  const own: Record<App, Record<string, string>> = {
    api: {
      DATABASE_URL: data.database.url,
      API_KEYS: BENCH_API_KEY,
      HOST: '127.0.0.1',
      PORT: String(port),
      // no load balancer to wait for: the shutdown bench measures the shutdown itself
      SHUTDOWN_DRAIN_DELAY: '0s',
    },
    worker: {
      DATABASE_URL: data.database.url,
      WEBHOOK_SIGNING_SECRET: BENCH_SIGNING_SECRET,
      HEALTH_HOST: '127.0.0.1',
      HEALTH_PORT: String(port),
    },
    beat: { DATABASE_URL: data.database.url, HEALTH_HOST: '127.0.0.1', HEALTH_PORT: String(port) },
  };
  const child = startServiceProcess(
    paths.dist(app),
    { ...common, ...own[app], ...env },
    { nodeArgs: ['--import', paths.tracing(app), ...nodeArgs], cwd: paths.root },
  );
  return { app, process: child, url: `http://127.0.0.1:${port}`, port };
}

/** Runs a TypeScript script of this package as a child process with the development conditions. */
export function startScript(file: string, env: Record<string, string>): ServiceProcess {
  return startServiceProcess(file, env, {
    nodeArgs: ['--conditions=development'],
    cwd: paths.root,
  });
}

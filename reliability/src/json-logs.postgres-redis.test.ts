// Redis is killed under a running worker and beat (its own redis-server on a spare loopback port;
// real PostgreSQL; real processes with NODE_ENV=production and the default log format) and comes
// back: every line either process writes, on stdout and on stderr, is one JSON object, and the
// outage is logged once per failure by the connection, not again by BullMQ's objects.
import { randomBytes } from 'node:crypto';
import { migrate } from '@repo/db';
import {
  createOwnRedis,
  createTestDatabase,
  createTestRedisPrefix,
  type OwnRedis,
  type TestDatabase,
  type TestRedisPrefix,
} from '@repo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, eventually, parseEveryLine, type RunningApp, startApp } from './lib/apps.ts';

type LogLine = Record<string, unknown>;

function errorCode(line: LogLine): unknown {
  return (line.err as { code?: unknown } | undefined)?.code;
}

describe('Redis killed under worker and beat: every log line is JSON (own redis-server)', () => {
  let database: TestDatabase;
  let keys: TestRedisPrefix;
  let redis: OwnRedis;
  let worker: RunningApp;
  let beat: RunningApp;

  beforeAll(async () => {
    database = await createTestDatabase('reliability_json_logs');
    await migrate({ databaseUrl: database.url });
    redis = await createOwnRedis();
    keys = createTestRedisPrefix('reliability-json-logs');
    const env = {
      NODE_ENV: 'production',
      // empty counts as unset: the format is production's default, not one chosen by the test
      LOG_FORMAT: '',
      REDIS_URL: redis.url,
      QUEUE_PREFIX: keys.prefix,
      HEALTH_CHECK_TIMEOUT: '1s',
    };
    [worker, beat] = await Promise.all([
      startApp('worker', {
        ...env,
        DATABASE_URL: database.url,
        WEBHOOK_SECRETS_KEY: randomBytes(32).toString('base64'),
      }),
      startApp('beat', { ...env, DATABASE_URL: database.url }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([worker, beat].map((app) => app?.process.stop('SIGKILL')));
    await redis?.destroy();
    await database?.drop();
  });

  it('writes only JSON lines through the outage, logs it once per failure, and recovers', async () => {
    const apps = [worker, beat];
    await redis.kill();

    for (const app of apps) {
      await eventually('readiness reports Redis down', async () =>
        (await call(`${app.url}/health/ready`)).status === 503 ? true : undefined,
      );
      // several reconnect attempts fail while Redis is away: each is a line of its own
      await eventually('three failed reconnects logged', async () =>
        app.process.logs().filter((line) => line.msg === 'redis connection error').length >= 3
          ? true
          : undefined,
      );
    }

    await redis.start();
    for (const app of apps) {
      await eventually('ready again', async () =>
        (await call(`${app.url}/health/ready`)).status === 200 ? true : undefined,
      );
    }
    expect(await Promise.all(apps.map((app) => app.process.stop('SIGTERM', 30_000)))).toEqual([
      0, 0,
    ]);
    await Promise.all(apps.map((app) => app.closed));

    for (const [name, app] of [
      ['worker', worker],
      ['beat', beat],
    ] as const) {
      const stdout = parseEveryLine(app.stdout(), `${name} stdout`);
      const stderr = parseEveryLine(app.process.stderr(), `${name} stderr`);
      const lines = [...stdout, ...stderr];
      for (const line of lines) {
        expect(line, JSON.stringify(line)).toMatchObject({
          level: expect.any(String),
          time: expect.any(String),
          service: name,
          msg: expect.any(String),
        });
      }
      const refused = lines.filter((line) => errorCode(line) === 'ECONNREFUSED');
      expect(refused.length, `${name}: the outage is logged`).toBeGreaterThanOrEqual(3);
      // the connection logs each failed attempt; BullMQ's queue and worker repeat the same
      // errors as their own 'error' events, and those are not logged a second time
      expect(
        new Set(refused.map((line) => line.msg)),
        `${name}: who logged the refused connections`,
      ).toEqual(new Set(['redis connection error']));
      expect(lines.map((line) => line.msg)).toContain('stopped');
    }
  });
});

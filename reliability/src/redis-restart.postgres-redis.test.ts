// Redis restarts while jobs flow (its own redis-server with AOF on a spare loopback port; real
// PostgreSQL; real api and worker processes): no acknowledged job (202) is lost; while Redis is
// down the api answers 503 problem+json and readiness says so; both recover without a restart.
import { migrate } from '@repo/db';
import {
  createOwnRedis,
  createTestDatabase,
  createTestRedisPrefix,
  type OwnRedis,
  type TestDatabase,
  type TestRedisPrefix,
} from '@repo/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeaders, call, eventually, type RunningApp, startApp } from './lib/apps.ts';

describe('Redis restart while jobs flow (own redis-server with AOF, real PostgreSQL)', () => {
  let database: TestDatabase;
  let keys: TestRedisPrefix;
  let redis: OwnRedis;
  let direct: pg.Pool;
  let api: RunningApp;
  let worker: RunningApp;

  beforeAll(async () => {
    database = await createTestDatabase('reliability_redis_restart');
    await migrate({ databaseUrl: database.url });
    direct = new pg.Pool({ connectionString: database.url, max: 2 });
    // AOF as compose runs Redis, so a restart keeps the data
    redis = await createOwnRedis([
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--maxmemory-policy',
      'noeviction',
    ]);
    keys = createTestRedisPrefix('reliability-redis-restart');
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: keys.prefix,
      HEALTH_CHECK_TIMEOUT: '1s',
    };
    [api, worker] = await Promise.all([
      startApp('api', env),
      startApp('worker', { ...env, JOB_STALLED_INTERVAL: '1s', JOB_LOCK_DURATION: '5s' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([api, worker].map((app) => app?.process.stop('SIGKILL')));
    await redis?.destroy();
    await direct?.end();
    await database?.drop();
  });

  it('loses no acknowledged job, answers 503 while Redis is down, and recovers by itself', async () => {
    const acknowledged: string[] = [];
    const refused: { id: string; body: unknown }[] = [];
    const unexpected: unknown[] = [];
    let posting = true;
    let sequence = 0;
    const poster = (async () => {
      while (posting) {
        const answer = await call(`${api.url}/v1/jobs`, {
          method: 'POST',
          headers: authHeaders,
          body: JSON.stringify({
            type: 'system.echo',
            payload: { data: sequence++, delayMs: 100 },
          }),
        });
        if (answer.status === 202) acknowledged.push((answer.body as { id: string }).id);
        else if (answer.status === 503 && answer.type.startsWith('application/problem+json')) {
          refused.push({ id: (answer.body as { jobId?: string }).jobId ?? '', body: answer.body });
        } else unexpected.push(answer);
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
    })();

    await eventually('jobs flowing', async () => (acknowledged.length >= 20 ? true : undefined));
    await redis.stop();
    const downSince = acknowledged.length;

    const ready = await eventually('api readiness reports Redis down', async () => {
      const answer = await call(`${api.url}/health/ready`);
      return answer.status === 503 ? answer : undefined;
    });
    expect(ready.body).toMatchObject({ checks: { redis: { status: 'down' } } });
    await eventually('worker readiness reports Redis down', async () =>
      (await call(`${worker.url}/health/ready`)).status === 503 ? true : undefined,
    );
    await eventually('POSTs refused with 503 problem+json', async () =>
      refused.length >= 3 ? true : undefined,
    );
    expect(refused[0]?.body).toMatchObject({
      type: 'https://jobstack.dev/problems/queue-unavailable',
      status: 503,
      jobId: expect.any(String),
    });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(api.process.child.exitCode).toBeNull();
    expect(worker.process.child.exitCode).toBeNull();

    await redis.start();
    await eventually('api ready again', async () =>
      (await call(`${api.url}/health/ready`)).status === 200 ? true : undefined,
    );
    await eventually('worker ready again', async () =>
      (await call(`${worker.url}/health/ready`)).status === 200 ? true : undefined,
    );
    await eventually('POSTs accepted again', async () =>
      acknowledged.length >= downSince + 20 ? true : undefined,
    );
    posting = false;
    await poster;
    expect(unexpected).toEqual([]);

    // every job the api acknowledged runs, the ones from before the restart included
    const statuses = await eventually(
      'every acknowledged job succeeded',
      async () => {
        const { rows } = await direct.query<{ id: string; status: string }>(
          'SELECT id, status FROM jobs WHERE id = ANY($1::uuid[])',
          [acknowledged],
        );
        return rows.length === acknowledged.length && rows.every((r) => r.status === 'succeeded')
          ? rows
          : undefined;
      },
      30_000,
      250,
    );
    expect(statuses).toHaveLength(acknowledged.length);
    // the refused ones are recorded, queued for the reconciler, not lost either
    const { rows: refusedRows } = await direct.query<{ status: string }>(
      'SELECT status FROM jobs WHERE id = ANY($1::uuid[])',
      [refused.map((r) => r.id)],
    );
    expect(refusedRows).toHaveLength(refused.length);
    expect(refusedRows.every((r) => r.status === 'queued')).toBe(true);

    for (const app of [api, worker]) expect(app.process.child.exitCode).toBeNull();
  });
});

// PostgreSQL goes away for a while (a TCP proxy in front of the real server is cut, then
// restored) under the api, the worker and beat (real processes, real PostgreSQL and Redis):
// readiness reports it, the api answers 503 problem+json instead of 500, nothing exits, and
// everything works again without a restart — including a job that came due during the outage.
import { migrate } from '@repo/db';
import {
  createTestDatabase,
  createTestRedisPrefix,
  TEST_REDIS_URL,
  type TestDatabase,
  type TestRedisPrefix,
} from '@repo/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeaders, call, eventually, type RunningApp, startApp } from './lib/apps.ts';
import { createTcpProxy, type TcpProxy } from './lib/tcp-proxy.ts';

describe('PostgreSQL unavailable for a while (real PostgreSQL behind a cut proxy, real Redis)', () => {
  let database: TestDatabase;
  let keys: TestRedisPrefix;
  let proxy: TcpProxy;
  let direct: pg.Pool;
  let api: RunningApp;
  let worker: RunningApp;
  let beat: RunningApp;

  beforeAll(async () => {
    database = await createTestDatabase('reliability_pg_outage');
    await migrate({ databaseUrl: database.url });
    direct = new pg.Pool({ connectionString: database.url, max: 2 });
    keys = createTestRedisPrefix('reliability-pg-outage');
    const target = new URL(database.url);
    proxy = await createTcpProxy(Number(target.port || 5432), target.hostname);
    const proxied = new URL(database.url);
    proxied.port = String(proxy.port);
    const env = {
      DATABASE_URL: proxied.toString(),
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: keys.prefix,
      DATABASE_CONNECT_TIMEOUT: '1s',
      HEALTH_CHECK_TIMEOUT: '1s',
      MIGRATE_ON_START: 'false',
    };
    [api, worker, beat] = await Promise.all([
      startApp('api', env),
      startApp('worker', { ...env, JOB_STALLED_INTERVAL: '1s', JOB_LOCK_DURATION: '5s' }),
      startApp('beat', env),
    ]);
  });

  afterAll(async () => {
    await Promise.all([api, worker, beat].map((app) => app?.process.stop('SIGKILL')));
    await proxy?.close();
    await direct?.end();
    await keys?.cleanup();
    await database?.drop();
  });

  const post = (payload: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    call(`${api.url}/v1/jobs`, {
      method: 'POST',
      headers: authHeaders,
      body: JSON.stringify({ type: 'system.echo', payload, ...extra }),
    });
  const statusOf = async (id: string) =>
    (await direct.query<{ status: string }>('SELECT status FROM jobs WHERE id = $1', [id])).rows[0]
      ?.status;

  it('reports the outage, answers 503 instead of 500, keeps running, and recovers without a restart', async () => {
    // before: a job runs through
    const before = await post({ data: 'before' });
    expect(before.status).toBe(202);
    const beforeId = (before.body as { id: string }).id;
    await eventually('the first job succeeds', async () =>
      (await statusOf(beforeId)) === 'succeeded' ? true : undefined,
    );
    // a job acknowledged now that comes due while PostgreSQL is away
    const dueLater = await post(
      { data: 'due during the outage' },
      { runAt: new Date(Date.now() + 2_000).toISOString() },
    );
    expect(dueLater.status).toBe(202);
    const dueLaterId = (dueLater.body as { id: string }).id;

    await proxy.cut();

    const apiReady = await eventually('api readiness reports the database down', async () => {
      const ready = await call(`${api.url}/health/ready`);
      return ready.status === 503 ? ready : undefined;
    });
    expect(apiReady.body).toMatchObject({
      status: 'down',
      checks: { database: { status: 'down' }, redis: { status: 'ok' } },
    });
    const workerReady = await eventually('worker readiness reports the database down', async () => {
      const ready = await call(`${worker.url}/health/ready`);
      return ready.status === 503 ? ready : undefined;
    });
    expect(workerReady.body).toMatchObject({ checks: { database: { status: 'down' } } });
    expect((await call(`${api.url}/health/live`)).status).toBe(200);
    expect((await call(`${beat.url}/health/ready`)).status).toBe(200);

    const read = await call(`${api.url}/v1/jobs/${beforeId}`, { headers: authHeaders });
    const list = await call(`${api.url}/v1/jobs?limit=5`, { headers: authHeaders });
    const create = await post({ data: 'during the outage' });
    for (const answer of [read, list, create]) {
      expect(answer.status).toBe(503);
      expect(answer.type).toMatch(/^application\/problem\+json/);
      expect(answer.body).toMatchObject({
        type: 'https://jobstack.dev/problems/database-unavailable',
        status: 503,
      });
    }

    // the outage lasts until well after the delayed job came due and the worker met it
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    for (const app of [api, worker, beat]) expect(app.process.child.exitCode).toBeNull();

    await proxy.restore();

    await eventually('api ready again', async () =>
      (await call(`${api.url}/health/ready`)).status === 200 ? true : undefined,
    );
    await eventually('worker ready again', async () =>
      (await call(`${worker.url}/health/ready`)).status === 200 ? true : undefined,
    );
    const after = await post({ data: 'after' });
    expect(after.status).toBe(202);
    const afterId = (after.body as { id: string }).id;
    await eventually('the job posted after the outage succeeds', async () =>
      (await statusOf(afterId)) === 'succeeded' ? true : undefined,
    );
    // acknowledged before the outage, due during it: it still runs, exactly once
    await eventually(
      'the job that came due during the outage succeeds',
      async () => ((await statusOf(dueLaterId)) === 'succeeded' ? true : undefined),
      20_000,
    );
    expect(
      (await call(`${api.url}/v1/jobs/${dueLaterId}`, { headers: authHeaders })).body,
    ).toMatchObject({ status: 'succeeded', result: { data: 'due during the outage' } });

    // nobody restarted: the same three processes, never exited
    for (const app of [api, worker, beat]) expect(app.process.child.exitCode).toBeNull();
    const fatal = [api, worker, beat].flatMap((app) =>
      app.process.logs().filter((line) => line.level === 'fatal'),
    );
    expect(fatal).toEqual([]);
  });
});

import { loadConfig } from '@repo/config';
import { createDb, createJobRepository, type Db, migrate } from '@repo/db';
import { databaseOptions } from '@repo/db/env';
import { createJobQueue, enqueueJob, type JobQueue } from '@repo/jobs';
import {
  createTestDatabase,
  createTestRedisPrefix,
  freePort,
  type ServiceProcess,
  startServiceProcess,
  TEST_REDIS_URL,
  type TestDatabase,
  type TestRedisPrefix,
} from '@repo/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workerEnv } from './env.ts';

const entry = new URL('./main.ts', import.meta.url).pathname;

// A deploy that changes packages/db starts the new worker and runs the migration at the same
// time, in no fixed order. The worker must not exit while the migration is still pending: it
// waits, not ready, and starts working once db-migrate has applied it — the same process.
describe('worker started before its migration (real process, PostgreSQL and Redis)', () => {
  let database: TestDatabase;
  let keys: TestRedisPrefix;
  let worker: ServiceProcess | undefined;
  let db: Db | undefined;
  let redis: Redis | undefined;
  let queue: JobQueue | undefined;

  beforeAll(async () => {
    database = await createTestDatabase('worker_schema_wait');
    keys = createTestRedisPrefix('worker-schema-wait');
  });
  afterAll(async () => {
    await worker?.stop('SIGKILL');
    await queue?.close();
    redis?.disconnect();
    await db?.disconnect();
    await keys?.cleanup();
    await database?.drop();
  });

  it('waits not ready while a migration is pending, and becomes ready without a restart once db-migrate runs', {
    timeout: 60_000,
  }, async () => {
    const port = await freePort();
    const health = `http://127.0.0.1:${port}/health`;
    worker = startServiceProcess(entry, {
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: keys.prefix,
      WEBHOOK_SIGNING_SECRET: `whsec_${Buffer.from('test-signing-secret-test-signing-secret').toString('base64')}`,
      HEALTH_PORT: String(port),
      HEALTH_HOST: '127.0.0.1',
      // the development .env files turn it on; a deployed worker has it off
      MIGRATE_ON_START: 'false',
    });
    const waiting = await worker.waitForLog((line) => Array.isArray(line.pending), 30_000);
    expect(waiting).toMatchObject({
      level: 'warn',
      // the shipped migrations, the first among them
      pending: expect.arrayContaining(['20261123090000_init']),
      msg: expect.stringContaining('not ready until db-migrate'),
    });
    // alive, answering its probes, not ready
    await worker.waitForHttp(`${health}/live`);
    expect((await fetch(`${health}/ready`)).status).toBe(503);
    const pid = worker.child.pid;

    await migrate({ databaseUrl: database.url });

    await worker.waitForHttp(`${health}/ready`, 30_000);
    expect(worker.child.pid).toBe(pid);
    expect(worker.child.exitCode).toBeNull();
    // readiness can answer before the line saying so has come through the pipe
    await worker.waitForLog((line) => line.msg === 'ready');
    expect(worker.logs().map((line) => line.msg)).toEqual(
      expect.arrayContaining(['the pending migrations are applied', 'ready']),
    );

    // and it works: a job submitted as the api submits it runs to completion
    const config = loadConfig(workerEnv, {
      NODE_ENV: 'test',
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: keys.prefix,
      WEBHOOK_SIGNING_SECRET: `whsec_${Buffer.from('test-signing-secret-test-signing-secret').toString('base64')}`,
    });
    db = createDb({ ...databaseOptions(config), applicationName: 'test-worker-schema-wait' });
    const jobs = createJobRepository(db);
    redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    queue = createJobQueue(redis, keys.prefix);
    const payload = { data: 'after the migration' };
    const { job } = await jobs.create({ type: 'system.echo', payload, maxAttempts: 1 });
    await enqueueJob(queue, { id: job.id, type: 'system.echo', payload, maxAttempts: 1 });
    const deadline = Date.now() + 20_000;
    let status = job.status;
    while (status !== 'succeeded' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      status = (await jobs.findById(job.id))?.status ?? status;
    }
    expect(status).toBe('succeeded');
    expect(await worker.stop('SIGTERM')).toBe(0);
  });
});

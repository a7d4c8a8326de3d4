// A worker is SIGKILLed while it runs N long jobs (real PostgreSQL and Redis, real worker
// processes). After a new worker starts, every one of the N jobs reaches succeeded exactly once.
import { loadConfig } from '@repo/config';
import { createDb, createJobRepository, type Db, type JobRepository, migrate } from '@repo/db';
import { databaseOptions, migrateEnv } from '@repo/db/env';
import { createJobQueue, enqueueJob, type JobQueue } from '@repo/jobs';
import {
  createTestDatabase,
  createTestRedisPrefix,
  TEST_REDIS_URL,
  type TestDatabase,
  type TestRedisPrefix,
} from '@repo/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, eventually, type RunningApp, startApp } from './lib/apps.ts';

const N = 8;

describe('SIGKILL of a worker during long jobs (real PostgreSQL and Redis)', () => {
  let database: TestDatabase;
  let keys: TestRedisPrefix;
  let db: Db;
  let jobs: JobRepository;
  let redis: Redis;
  let queue: JobQueue;
  const workers: RunningApp[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('reliability_sigkill');
    await migrate({ databaseUrl: database.url });
    keys = createTestRedisPrefix('reliability-sigkill');
    db = createDb(databaseOptions(loadConfig(migrateEnv, { DATABASE_URL: database.url })));
    jobs = createJobRepository(db);
    redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    queue = createJobQueue(redis, keys.prefix);
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.process.stop('SIGKILL')));
    await queue?.close();
    redis?.disconnect();
    await db?.disconnect();
    await keys?.cleanup();
    await database?.drop();
  });

  const startWorker = async () => {
    const worker = await startApp('worker', {
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: keys.prefix,
      WORKER_CONCURRENCY: String(N),
      // the shortest lock the config allows, checked every second: recovery within seconds
      JOB_LOCK_DURATION: '5s',
      JOB_STALLED_INTERVAL: '1s',
    });
    workers.push(worker);
    return worker;
  };

  it('hands the killed worker’s jobs to a new worker, and each succeeds exactly once', async () => {
    const first = await startWorker();
    const ids: string[] = [];
    for (let i = 0; i < N; i += 1) {
      const payload = { data: { job: i }, delayMs: 3_000 };
      const { job } = await jobs.create({ type: 'system.echo', payload, maxAttempts: 3 });
      await enqueueJob(queue, { id: job.id, type: 'system.echo', payload, maxAttempts: 3 });
      ids.push(job.id);
    }
    await eventually('all jobs running on the first worker', async () => {
      const rows = await Promise.all(ids.map((id) => jobs.findById(id)));
      return rows.every((row) => row?.status === 'running') ? true : undefined;
    });

    first.process.child.kill('SIGKILL');
    expect(await first.process.exited).toBeNull();
    expect(first.process.child.signalCode).toBe('SIGKILL');

    const second = await startWorker();
    const rows = await eventually(
      'every job succeeded',
      async () => {
        const found = await Promise.all(ids.map((id) => jobs.findById(id)));
        return found.every((row) => row?.status === 'succeeded') ? found : undefined;
      },
      45_000,
      250,
    );
    rows.forEach((row, i) => {
      expect(row).toMatchObject({
        status: 'succeeded',
        result: { data: { job: i }, delayMs: 3_000 },
      });
    });

    // exactly once: the new worker completed each job one time, BullMQ holds each once, completed
    const metrics = await call(`${second.url}/metrics`);
    expect(String(metrics.body)).toMatch(
      new RegExp(`^jobstack_jobs_total\\{type="system.echo",outcome="succeeded"\\} ${N}$`, 'm'),
    );
    expect(await queue.getJobCounts('completed', 'failed', 'active', 'wait', 'delayed')).toEqual({
      completed: N,
      failed: 0,
      active: 0,
      wait: 0,
      delayed: 0,
    });
    const completed = await queue.getJobs(['completed']);
    expect(completed.map((job) => job.id).sort()).toEqual([...ids].sort());
    expect(second.process.logs().filter((line) => line.msg === 'job attempt failed')).toEqual([]);
  });
});

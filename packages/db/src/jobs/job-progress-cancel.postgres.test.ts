import { randomUUID } from 'node:crypto';
import { type Env, loadConfig } from '@repo/config';
import { createTestDatabase, type TestDatabase } from '@repo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../create-db.ts';
import { databaseOptions, migrateEnv } from '../env.ts';
import { migrate } from '../migrate/migrate.ts';
import {
  createJobRepository,
  type JobRepository,
  type QueuedJobRelease,
} from './job-repository.ts';

/** No BullMQ job holds these rows (the repository is tested alone): a queued one is cancelled. */
const noWorkerHolds: QueuedJobRelease = async () => 'released';

describe('job repository: progress and cancelling running jobs (real PostgreSQL)', () => {
  let database: TestDatabase;
  let db: Db;
  let jobs: JobRepository;

  beforeAll(async () => {
    database = await createTestDatabase('job_progress_cancel');
    await migrate({ databaseUrl: database.url });
    const env: Env = { DATABASE_URL: database.url };
    db = createDb({
      ...databaseOptions(loadConfig(migrateEnv, env)),
      applicationName: 'job-progress-cancel-test',
    });
    jobs = createJobRepository(db);
  });
  afterAll(async () => {
    await db?.disconnect();
    await database?.drop();
  });

  async function running(type: string) {
    const { job } = await jobs.create({ type, payload: {}, maxAttempts: 3 });
    await jobs.markRunning(job.id, 1);
    return job;
  }

  describe('recordProgress', () => {
    it('stores percent, message and the time on a running job, sharing that time with updatedAt', async () => {
      const job = await running('progress');
      const progress = await jobs.recordProgress(job.id, { percent: 42.5, message: 'halfway' });
      expect(progress).toEqual({
        percent: 42.5,
        message: 'halfway',
        updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      });
      const row = await jobs.findById(job.id);
      expect(row?.progress).toEqual(progress);
      expect(row?.updatedAt.toISOString()).toBe(progress?.updatedAt);
      // a message is optional, and NUL (which text cannot hold) is replaced
      expect(await jobs.recordProgress(job.id, { percent: 50, message: null })).toMatchObject({
        percent: 50,
        message: null,
      });
      expect(await jobs.recordProgress(job.id, { percent: 60, message: 'a\u0000b' })).toMatchObject(
        { message: 'a\uFFFDb' },
      );
    });

    it('changes nothing on a job that is not running, and a new attempt starts without progress', async () => {
      const { job: queued } = await jobs.create({
        type: 'progress.q',
        payload: {},
        maxAttempts: 3,
      });
      expect(await jobs.recordProgress(queued.id, { percent: 1, message: null })).toBeNull();
      expect(await jobs.recordProgress(randomUUID(), { percent: 1, message: null })).toBeNull();
      expect(await jobs.recordProgress('nope', { percent: 1, message: null })).toBeNull();

      const job = await running('progress.retry');
      await jobs.recordProgress(job.id, { percent: 80, message: 'nearly' });
      await jobs.markFailed(job.id, { error: 'Error: boom', final: false });
      // the failed attempt's last report stays readable until the next attempt starts
      expect((await jobs.findById(job.id))?.progress).toMatchObject({ percent: 80 });
      await jobs.markRunning(job.id, 2);
      expect((await jobs.findById(job.id))?.progress).toBeNull();
    });
  });

  describe('cancelling a running job', () => {
    it('records the first request time and keeps it on later requests', async () => {
      const job = await running('cancel.request');
      const first = await jobs.cancel(job.id, noWorkerHolds);
      expect(first).toMatchObject({
        outcome: 'cancel_requested',
        job: { status: 'running', cancelRequestedAt: expect.any(Date), finishedAt: null },
      });
      const again = await jobs.cancel(job.id, noWorkerHolds);
      expect(again.outcome).toBe('cancel_requested');
      expect(again.outcome === 'cancel_requested' && again.job.cancelRequestedAt).toEqual(
        first.outcome === 'cancel_requested' && first.job.cancelRequestedAt,
      );
    });

    it('ends the job cancelled when its handler returns anyway, keeping the result', async () => {
      const job = await running('cancel.succeeds');
      await jobs.cancel(job.id, noWorkerHolds);
      expect(await jobs.markSucceeded(job.id, { done: true })).toBe(true);
      const row = await jobs.findById(job.id);
      expect(row).toMatchObject({ status: 'cancelled', result: { done: true } });
      expect(row?.finishedAt).toBeInstanceOf(Date);
    });

    it('ends the job cancelled, not queued for a retry, when its attempt fails', async () => {
      const job = await running('cancel.fails');
      await jobs.cancel(job.id, noWorkerHolds);
      const row = await jobs.markFailed(job.id, { error: 'AbortError: aborted', final: false });
      expect(row).toMatchObject({ status: 'cancelled', error: 'AbortError: aborted' });
      expect(row?.finishedAt).toBeInstanceOf(Date);
      const final = await running('cancel.fails.final');
      await jobs.cancel(final.id, noWorkerHolds);
      expect(await jobs.markFailed(final.id, { error: 'x', final: true })).toMatchObject({
        status: 'cancelled',
      });
    });

    it('tells the attempt that starts after the request (a redelivery) that it must not run', async () => {
      const job = await running('cancel.redelivered');
      await jobs.cancel(job.id, noWorkerHolds);
      expect(await jobs.markRunning(job.id, 2)).toMatchObject({ cancelRequested: true });
      const cancelled = await jobs.markCancelled(job.id);
      expect(cancelled).toMatchObject({ status: 'cancelled', result: null });
      expect(cancelled?.finishedAt).toBeInstanceOf(Date);
      // finished: nothing changes it any more
      expect(await jobs.markCancelled(job.id, { late: true })).toBeNull();
      expect(await jobs.markSucceeded(job.id, { late: true })).toBe(false);
      expect(await jobs.cancel(job.id, noWorkerHolds)).toMatchObject({ outcome: 'conflict' });
    });
  });

  it('findByIds returns the existing jobs among the ids and ignores malformed ones', async () => {
    const a = await running('find.a');
    const b = await running('find.b');
    const found = await jobs.findByIds([a.id, b.id, randomUUID(), 'nope']);
    expect(found.map((job) => job.id).sort()).toEqual([a.id, b.id].sort());
    expect(await jobs.findByIds([])).toEqual([]);
    expect(await jobs.findByIds(['nope'])).toEqual([]);
  });
});

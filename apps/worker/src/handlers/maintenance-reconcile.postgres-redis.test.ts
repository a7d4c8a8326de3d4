import { randomUUID } from 'node:crypto';
import type { JobRecord } from '@repo/db';
import {
  type ArrivalOptions,
  jobOptions,
  type LimitsByType,
  QUEUE_NAME,
  splitQueuedJobData,
} from '@repo/jobs';
import { createLogger } from '@repo/logger';
import { READY_DEADLINE_MS } from '@repo/testing';
import { Worker } from 'bullmq';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createWorkerHarness, type WorkerHarness } from '../testing/worker-harness.ts';
import { maintenanceReconcile, type ReconcileLimits } from './maintenance-reconcile.ts';

const finished = (row: { status: string }) =>
  ['succeeded', 'failed', 'cancelled'].includes(row.status);

describe('maintenance.reconcile (real PostgreSQL, Redis and BullMQ)', { timeout: 60_000 }, () => {
  let h: WorkerHarness;
  const context = async () => ({
    id: randomUUID(),
    attempt: 1,
    maxAttempts: 1,
    signal: new AbortController().signal,
    details: {},
    progress: () => {},
    logger: await createLogger({
      service: 'worker',
      version: 'test',
      config: { NODE_ENV: 'test', LOG_LEVEL: 'silent', LOG_FORMAT: 'json' },
    }),
  });
  const reconcile = async (limits?: ReconcileLimits, arrival?: ArrivalOptions) =>
    maintenanceReconcile({
      config: h.config,
      jobs: h.jobs,
      queue: h.queue,
      ...(limits && { limits }),
      ...(arrival && { arrival }),
    })({}, await context());

  const workers: Worker[] = [];
  /** The BullMQ worker of a worker service wired as main.ts wires it, closed after the test. */
  async function startWorker() {
    const { worker } = await h.startWorker();
    workers.push(worker);
    return worker;
  }

  beforeAll(async () => {
    h = await createWorkerHarness('reconcile');
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.close()));
  });
  afterAll(async () => {
    await h?.close();
  });
  // every test starts from an empty table and an empty queue: reconcile looks at all of them
  beforeEach(async () => {
    await h.db.pool.query('DELETE FROM jobs');
    let cursor = '0';
    do {
      const [next, keys] = await h.redis.scan(
        cursor,
        'MATCH',
        `${h.config.QUEUE_PREFIX}:*`,
        'COUNT',
        1000,
      );
      cursor = next;
      if (keys.length > 0) await h.redis.unlink(...keys);
    } while (cursor !== '0');
  });

  /** Makes rows look untouched for `interval` (a PostgreSQL interval), so reconcile looks at them. */
  async function age(ids: string[], interval: string) {
    await h.db.pool.query(
      `UPDATE jobs SET updated_at = now() - $2::interval WHERE id = ANY($1::uuid[])`,
      [ids, interval],
    );
  }
  async function row(id: string): Promise<JobRecord> {
    const found = await h.jobs.findById(id);
    if (!found) throw new Error(`job ${id} has no row`);
    return found;
  }

  it('finds an orphaned row behind 500 delayed jobs older than RECONCILE_AFTER', async () => {
    const runAt = new Date(Date.now() + 3_600_000);
    const delayed = await Promise.all(
      Array.from({ length: 500 }, async (_, i) => {
        const { job } = await h.jobs.create({
          type: 'system.echo',
          payload: { data: i },
          maxAttempts: 3,
          runAt,
        });
        return job;
      }),
    );
    await h.queue.addBulk(
      delayed.map((job) => ({
        name: 'system.echo',
        data: job.payload,
        opts: jobOptions('system.echo', { jobId: job.id, runAt }),
      })),
    );
    const { job: orphan } = await h.jobs.create({
      type: 'system.echo',
      payload: { data: 'orphan' },
      maxAttempts: 3,
    });
    await age(
      delayed.map((job) => job.id),
      '2 hours',
    );
    await age([orphan.id], '1 hour');

    expect(await reconcile()).toMatchObject({ requeued: 1 });
    expect(await h.queue.getJobState(orphan.id)).toBe('prioritized');
    expect(await h.queue.getDelayedCount()).toBe(500);
    // the next run finds nothing more to do
    expect(await reconcile()).toMatchObject({ requeued: 0 });
  });

  it('walks a backlog larger than one run across runs, so the orphan behind it is found', async () => {
    const runAt = new Date(Date.now() + 3_600_000);
    const fine = await Promise.all(
      Array.from({ length: 50 }, async () => {
        const { job } = await h.jobs.create({
          type: 'system.echo',
          payload: {},
          maxAttempts: 1,
          runAt,
        });
        return job;
      }),
    );
    await h.queue.addBulk(
      fine.map((job) => ({
        name: 'system.echo',
        data: {},
        opts: jobOptions('system.echo', { jobId: job.id, runAt }),
      })),
    );
    const { job: orphan } = await h.jobs.create({
      type: 'system.echo',
      payload: {},
      maxAttempts: 1,
    });
    await age(
      fine.map((job) => job.id),
      '2 hours',
    );
    await age([orphan.id], '1 hour');
    const limits = { pageSize: 10, jobsPerRun: 25 };

    expect(await reconcile(limits)).toEqual({
      checked: 25,
      requeued: 0,
      failed: 0,
      expired: 0,
      caughtUp: false,
    });
    expect(await reconcile(limits)).toEqual({
      checked: 25,
      requeued: 0,
      failed: 0,
      expired: 0,
      caughtUp: false,
    });
    expect(await reconcile(limits)).toEqual({
      checked: 1,
      requeued: 1,
      failed: 0,
      expired: 0,
      caughtUp: true,
    });
    expect(await h.queue.getJobState(orphan.id)).toBe('prioritized');
    // and then from the oldest again; the orphan, just touched, is no longer stale
    expect(await reconcile(limits)).toEqual({
      checked: 25,
      requeued: 0,
      failed: 0,
      expired: 0,
      caughtUp: false,
    });

    // a cursor that cannot be read is a reason to start over, not to stop
    await h.redis.set(h.queue.toKey('reconcile:cursor'), 'not a cursor');
    expect(await reconcile(limits)).toMatchObject({ checked: 25, caughtUp: false });
    expect(await reconcile(limits)).toMatchObject({ checked: 25, caughtUp: false });
    expect(await reconcile(limits)).toMatchObject({ checked: 0, caughtUp: true });
  });

  it('marks failed a stale row the contract rejects, instead of retrying it forever', async () => {
    const { job } = await h.jobs.create({ type: 'email.send', payload: {}, maxAttempts: 1 });
    await age([job.id], '1 hour');
    expect(await reconcile()).toMatchObject({ requeued: 0, failed: 1 });
    expect(await row(job.id)).toMatchObject({
      status: 'failed',
      error: expect.stringContaining('Unknown job type "email.send"'),
    });
  });

  describe('a scheduled run (BullMQ id "repeat:…", row id derived from it)', () => {
    async function scheduledRunWaitingForRetry() {
      await h.queue.upsertJobScheduler(
        'flaky-hourly',
        { every: 3_600_000 },
        {
          name: 'system.echo',
          data: { failAttempts: 1 },
          opts: { attempts: 3, backoff: { type: 'fixed', delay: 3_600_000 } },
        },
      );
      const worker = await startWorker();
      let run: JobRecord | undefined;
      await expect
        .poll(
          async () => {
            const { jobs } = await h.jobs.list({ type: 'system.echo', limit: 10 });
            run = jobs.find((j) => j.schedulerId === 'flaky-hourly');
            return run && { status: run.status, attempts: run.attempts };
          },
          { timeout: 20_000 },
        )
        .toEqual({ status: 'queued', attempts: 1 });
      await worker.close();
      await h.queue.removeJobScheduler('flaky-hourly');
      const retry = (await h.queue.getDelayed()).find((job) => job.repeatJobKey === 'flaky-hourly');
      if (!run || !retry?.id) throw new Error('the scheduled run is not waiting for its retry');
      await age([run.id], '1 hour');
      return { run, retry: retry.id };
    }

    it('is left alone while it waits in BullMQ for a retry: no second copy', async () => {
      const { run, retry } = await scheduledRunWaitingForRetry();
      expect(await reconcile()).toMatchObject({ requeued: 0 });
      expect(await h.queue.getJob(run.id)).toBeUndefined();
      expect(await h.queue.getJobState(retry)).toBe('delayed');
    });

    it('is enqueued again under its row id once its BullMQ job is lost, with its attempts carried', async () => {
      const { run, retry } = await scheduledRunWaitingForRetry();
      await h.queue.remove(retry);
      expect(await reconcile()).toMatchObject({ requeued: 1 });
      expect(await reconcile()).toMatchObject({ requeued: 0 });
      const again = await h.queue.getJob(run.id);
      // one attempt used, two left
      expect(again?.opts.attempts).toBe(2);

      await startWorker();
      // failAttempts 1: its second attempt succeeds
      expect(await h.waitForRow(run.id, finished)).toMatchObject({
        status: 'succeeded',
        attempts: 2,
        schedulerId: 'flaky-hourly',
      });
      // one attempt in BullMQ: the one that succeeded
      expect((await h.queue.getJob(run.id))?.attemptsMade).toBe(1);
    });
  });

  it("carries the row's count, so the handler is told the row's attempt numbers without a read", async () => {
    // one attempt used and failed; its BullMQ job then lost
    const { job } = await h.jobs.create({
      type: 'system.echo',
      payload: { failAttempts: 2 },
      maxAttempts: 3,
    });
    await h.jobs.markRunning(job.id, 1);
    await h.jobs.markFailed(job.id, { error: 'Error: first', final: false });
    await age([job.id], '1 hour');
    expect(await reconcile()).toMatchObject({ requeued: 1 });
    const again = await h.queue.getJob(job.id);
    expect(again?.opts.attempts).toBe(2);
    expect(splitQueuedJobData(again?.data).rowCount).toEqual({ attemptsUsed: 1, expiresAt: null });
    await startWorker();
    // attempt 2 fails as the payload asks (it would be BullMQ's 1), attempt 3 succeeds
    expect(await h.waitForRow(job.id, finished)).toMatchObject({
      status: 'succeeded',
      attempts: 3,
    });
  });

  describe('a running row', () => {
    it('whose BullMQ job is gone (Redis lost it) is queued and enqueued again', async () => {
      const { job } = await h.jobs.create({
        type: 'system.echo',
        payload: { data: 'lost' },
        maxAttempts: 2,
      });
      await h.jobs.markRunning(job.id, 1);
      await age([job.id], '1 hour');

      expect(await reconcile()).toMatchObject({ requeued: 1 });
      // the interrupted attempt is not counted, as BullMQ counts none for a stalled job
      expect(await row(job.id)).toMatchObject({ status: 'queued', attempts: 0 });
      expect((await row(job.id)).error).toMatch(/^its BullMQ job disappeared while it was running/);
      expect((await h.queue.getJob(job.id))?.opts.attempts).toBe(2);
      await startWorker();
      expect(await h.waitForRow(job.id, finished)).toMatchObject({
        status: 'succeeded',
        attempts: 1,
        result: { data: 'lost' },
      });
    });

    it('whose job is active on a slow worker is left alone', async () => {
      await startWorker();
      const job = await h.submit('system.echo', { data: 'slow', delayMs: 4_000 });
      await h.waitForRow(job.id, (r) => r.status === 'running');
      await age([job.id], '1 hour');
      expect(await h.queue.getJobState(job.id)).toBe('active');

      expect(await reconcile()).toMatchObject({ requeued: 0 });
      expect(await h.waitForRow(job.id, finished)).toMatchObject({
        status: 'succeeded',
        attempts: 1,
      });
      // the attempt that succeeded, with no restart
      expect((await h.queue.getJob(job.id))?.attemptsMade).toBe(1);
    });

    it('whose job waits in BullMQ (postponed while PostgreSQL was away) is left alone', async () => {
      const { job } = await h.jobs.create({ type: 'system.echo', payload: {}, maxAttempts: 3 });
      await h.jobs.markRunning(job.id, 1);
      await h.queue.add('system.echo', {}, { jobId: job.id, delay: 3_600_000, attempts: 3 });
      await age([job.id], '1 hour');

      expect(await reconcile()).toMatchObject({ requeued: 0 });
      expect(await row(job.id)).toMatchObject({ status: 'running', attempts: 1 });
      expect(await h.queue.getJobState(job.id)).toBe('delayed');
    });

    it('whose job BullMQ failed for good without the row hearing of it is marked failed', async () => {
      const { job } = await h.jobs.create({ type: 'system.echo', payload: {}, maxAttempts: 1 });
      await h.jobs.markRunning(job.id, 1);
      // BullMQ fails it on its own, as it does a job that stalled too often, and the row is not
      // told (PostgreSQL was unavailable when the worker tried)
      const failing = new Worker(
        QUEUE_NAME,
        async () => {
          throw new Error('job stalled more than allowable limit');
        },
        { connection: h.redis, prefix: h.config.QUEUE_PREFIX },
      );
      await h.queue.add('system.echo', {}, { jobId: job.id, attempts: 1 });
      await expect.poll(() => h.queue.getJobState(job.id), { timeout: 10_000 }).toBe('failed');
      await failing.close();
      await age([job.id], '1 hour');

      await reconcile();
      expect(await row(job.id)).toMatchObject({
        status: 'failed',
        error: 'job stalled more than allowable limit',
      });
    });
  });

  it('gives a half-retried job only the attempts it has left', async () => {
    const { job } = await h.jobs.create({
      type: 'system.echo',
      payload: { failAttempts: 5 },
      maxAttempts: 3,
    });
    // attempt 2 of 3 failed; the job waits for its retry, and its BullMQ job is gone
    await h.db.pool.query(
      `UPDATE jobs SET attempts = 2, error = 'Error: failing attempt 2 of 5 as the payload asks'
        WHERE id = $1::uuid`,
      [job.id],
    );
    await age([job.id], '1 hour');

    expect(await reconcile()).toMatchObject({ requeued: 1 });
    expect((await h.queue.getJob(job.id))?.opts.attempts).toBe(1);
    await startWorker();
    expect(await h.waitForRow(job.id, finished)).toMatchObject({
      status: 'failed',
      attempts: 3,
      error: 'Error: failing attempt 3 of 5 as the payload asks',
    });
    // BullMQ records the attempt once the handler's failure reaches it, on the worker's own
    // connection: shortly after the row, not before
    await expect
      .poll(async () => (await h.queue.getJob(job.id))?.attemptsMade, {
        timeout: READY_DEADLINE_MS,
      })
      .toBe(1);
  });

  it('parks the re-added jobs of a key past its limit on arrival, as one batch, in their order', async () => {
    const limits: LimitsByType = {
      'system.echo': { maxConcurrent: 0, maxConcurrentPerKey: 2, rateMax: 0, rateWindowMs: 0 },
    };
    const counted: string[] = [];
    const arrival: ArrivalOptions = {
      limits,
      connection: h.redis,
      onParked: (type) => counted.push(type),
    };
    // rows whose BullMQ jobs Redis lost: five of key A, one without a key
    const keyed: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const { job } = await h.jobs.create({
        type: 'system.echo',
        payload: { data: i },
        maxAttempts: 3,
        concurrencyKey: 'A',
      });
      keyed.push(job.id);
      // oldest first is the order reconcile walks them in
      await age([job.id], `${3_600 - i} seconds`);
    }
    const { job: noKey } = await h.jobs.create({
      type: 'system.echo',
      payload: {},
      maxAttempts: 3,
    });
    await age([noKey.id], '1 hour');

    expect(await reconcile(undefined, arrival)).toMatchObject({ requeued: 6, failed: 0 });
    const states = await Promise.all(keyed.map((id) => h.queue.getJobState(id)));
    // the key's limit in wait, the rest parked behind them in the order they were walked
    expect(states).toEqual(['prioritized', 'prioritized', 'delayed', 'delayed', 'delayed']);
    expect(await h.redis.lrange(`${h.queue.toKey('fair')}:park:system.echo:A`, 0, -1)).toEqual(
      keyed.slice(2),
    );
    expect(await h.fair.waitingFor(keyed[2] as string)).toBe('concurrency');
    expect(await h.queue.getJobState(noKey.id)).toBe('prioritized');
    expect(counted).toEqual(['system.echo', 'system.echo', 'system.echo']);
    // the rows stay queued, with their attempts untouched
    expect(await row(keyed[4] as string)).toMatchObject({ status: 'queued', attempts: 0 });
  });
});

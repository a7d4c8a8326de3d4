import { randomUUID } from 'node:crypto';
import { createLogger } from '@repo/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maintenanceReconcile } from './handlers/maintenance-reconcile.ts';
import type { WorkerService } from './service.ts';
import { createWorkerHarness, type WorkerHarness } from './testing/worker-harness.ts';

// What a worker honours of a job's options: its priority among waiting jobs, and its ttl.

describe('a worker and the job options (real PostgreSQL and Redis)', () => {
  let harness: WorkerHarness;
  let worker: WorkerService;

  beforeAll(async () => {
    // one job at a time, so the order the worker takes jobs in is the order they start in
    harness = await createWorkerHarness('worker_job_operations', { WORKER_CONCURRENCY: '1' });
  });
  afterAll(async () => {
    await harness?.close();
  });

  it('takes the waiting job of priority 1 before those of priority 10, and 5 (the default) between', async () => {
    const last = [];
    for (let i = 0; i < 4; i += 1) {
      last.push(await harness.submit('system.echo', { data: `last ${i}` }, { priority: 10 }));
    }
    const middle = await harness.submit('system.echo', { data: 'default' });
    const first = await harness.submit('system.echo', { data: 'first' }, { priority: 1 });
    expect(middle.priority).toBe(5);

    worker = await harness.startWorker();
    const started = async (id: string) =>
      (await harness.waitForRow(id, (row) => row.status === 'succeeded')).startedAt?.getTime() ??
      Number.NaN;
    const firstStart = await started(first.id);
    const middleStart = await started(middle.id);
    const lastStarts = await Promise.all(last.map((job) => started(job.id)));
    expect(firstStart).toBeLessThanOrEqual(middleStart);
    for (const lastStart of lastStarts) expect(middleStart).toBeLessThanOrEqual(lastStart);
    // within a priority, in the order they were queued
    expect(lastStarts).toEqual([...lastStarts].sort((a, b) => a - b));
  });

  it('ends a job not started within its ttl as expired without running it, and runs one that is on time', async () => {
    // the only worker slot is busy for longer than the short ttl
    const busy = await harness.submit(
      'system.echo',
      { data: 'busy', delayMs: 2_500 },
      { priority: 1 },
    );
    await harness.waitForRow(busy.id, (row) => row.status === 'running');
    const late = await harness.submit('system.echo', { data: 'late' }, { ttl: 1 });
    const onTime = await harness.submit('system.echo', { data: 'on time' }, { ttl: 3_600 });

    const expired = await harness.waitForRow(late.id, (row) => row.status === 'expired');
    expect(expired).toMatchObject({ attempts: 0, startedAt: null, result: null });
    expect(expired.finishedAt?.getTime()).toBeGreaterThanOrEqual(
      expired.expiresAt?.getTime() ?? Number.NaN,
    );
    const ran = await harness.waitForRow(onTime.id, (row) => row.status === 'succeeded');
    expect(ran.result).toEqual({ data: 'on time' });
    // the worker completed the expired job's BullMQ job without running the handler
    expect(await (await harness.queue.getJob(late.id))?.returnvalue).toEqual({
      skipped: 'expired',
    });
    const outcomes = await worker.registry.getSingleMetricAsString('jobstack_jobs_total');
    expect(outcomes).toContain('jobstack_jobs_total{type="system.echo",outcome="expired"} 1');
  });

  it('reconcile ends the queued jobs past their ttl and takes them off the queue', async () => {
    // a job no worker can take: its BullMQ job is delayed far ahead, its row's deadline passed
    const { job } = await harness.jobs.create({
      type: 'system.echo',
      payload: {},
      maxAttempts: 1,
      ttl: 1,
    });
    await harness.queue.add('system.echo', {}, { jobId: job.id, delay: 3_600_000 });
    await harness.db.pool.query(
      `UPDATE jobs SET created_at = created_at - interval '10 seconds',
                       expires_at = expires_at - interval '10 seconds' WHERE id = $1`,
      [job.id],
    );
    const logger = await createLogger({
      service: 'worker',
      version: 'test',
      config: { NODE_ENV: 'test', LOG_LEVEL: 'silent', LOG_FORMAT: 'json' },
    });
    const result = await maintenanceReconcile({
      config: harness.config,
      jobs: harness.jobs,
      queue: harness.queue,
    })(
      {},
      {
        id: randomUUID(),
        attempt: 1,
        maxAttempts: 1,
        signal: new AbortController().signal,
        logger,
        details: {},
        progress: () => {},
      },
    );
    expect(result.expired).toBe(1);
    expect((await harness.jobs.findById(job.id))?.status).toBe('expired');
    expect(await harness.queue.getJob(job.id)).toBeUndefined();
  });
});

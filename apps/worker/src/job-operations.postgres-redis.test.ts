import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkerHarness, type WorkerHarness } from './testing/worker-harness.ts';

// What a worker honours of a job's options: its priority among waiting jobs, and its ttl.

describe('a worker and the job options (real PostgreSQL and Redis)', () => {
  let harness: WorkerHarness;

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

    await harness.startWorker();
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
});

import { setTimeout as sleep } from 'node:timers/promises';
import { jobCancelChannel } from '@repo/jobs';
import { READY_DEADLINE_MS } from '@repo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LiveWorker, startLiveWorker } from '../testing/live-worker.ts';
import { createWorkerHarness, type WorkerHarness } from '../testing/worker-harness.ts';

describe('cancelling a running job in the worker (real PostgreSQL, Redis and BullMQ)', () => {
  let h: WorkerHarness;
  let live: LiveWorker;
  /** The jobs whose handler ignores its signal: they finish their 1.5 s wait regardless. */
  const stubborn = new Set<string>();

  beforeAll(async () => {
    h = await createWorkerHarness('job_cancellation');
    live = await startLiveWorker(h, {
      echo: async (payload, context, real) => {
        if (!stubborn.has(context.id)) return real(payload, context);
        context.progress(10, 'ignoring the signal');
        await sleep(1_500);
        return { data: 'finished anyway' };
      },
    });
  });
  afterAll(async () => {
    await live?.close();
    await h?.close();
  });

  /** What the api does on POST /v1/jobs/:id/cancel for a running job. */
  async function requestCancel(id: string, { announce = true } = {}) {
    expect((await h.jobs.cancel(id, h.release)).outcome).toBe('cancel_requested');
    if (announce) await h.redis.publish(jobCancelChannel(h.config.QUEUE_PREFIX), id);
  }

  it('keeps the result of a handler that ignores the signal, and still ends the job cancelled', async () => {
    const job = await h.submit('system.echo', { data: 'x' });
    stubborn.add(job.id);
    await h.waitForRow(job.id, (row) => row.status === 'running');
    await requestCancel(job.id);
    const row = await h.waitForRow(job.id, (r) => r.status !== 'running');
    expect(row).toMatchObject({
      status: 'cancelled',
      result: { data: 'finished anyway' },
      attempts: 1,
      progress: { percent: 10, message: 'ignoring the signal' },
    });
    // BullMQ finishes the job just after its row: no retry follows
    const deadline = Date.now() + READY_DEADLINE_MS;
    let queued = await h.queue.getJob(job.id);
    while ((await queued?.getState()) === 'active' && Date.now() < deadline) {
      await sleep(20);
      queued = await h.queue.getJob(job.id);
    }
    expect(await queued?.getState()).toBe('completed');
    // what bull-board shows
    expect(queued?.progress).toBe(10);
    const cancelledMetric = await h.registry.getSingleMetricAsString('jobstack_jobs_total');
    expect(cancelledMetric).toMatch(/outcome="cancelled"} 1/);
    // what the api's event streams were told: started, progressed, ended
    const about = live.announced.filter((message) => message.jobId === job.id);
    expect(about.map((message) => message.kind)).toEqual(['status', 'progress', 'status']);
  });

  it('aborts a job whose cancellation was requested while the listener was disconnected, once it is back', async () => {
    const job = await h.submit('system.echo', { delayMs: 60_000 });
    await h.waitForRow(job.id, (row) => row.status === 'running');
    // recorded on the row only: the announcement is lost, as it would be while Redis is away
    await requestCancel(job.id, { announce: false });
    live.subscriber.disconnect(true);
    const row = await h.waitForRow(job.id, (r) => r.status !== 'running');
    expect(row).toMatchObject({ status: 'cancelled', attempts: 1 });
  });
});

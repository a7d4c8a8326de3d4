import { createJobAttemptLog, createJobRepository } from '@repo/db';
import { enqueueJob, type JobPayload, jobCancelChannel, QUEUE_NAME } from '@repo/jobs';
import { READY_DEADLINE_MS } from '@repo/testing';
import { Worker } from 'bullmq';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { JobContext } from './handlers/index.ts';
import { type LiveWorker, startLiveWorker } from './testing/live-worker.ts';
import { createWorkerHarness, type WorkerHarness } from './testing/worker-harness.ts';

// The worker writes `running` only once a handler has run for JOB_RUNNING_STATUS_DELAY; a job
// that ends sooner goes from queued to its outcome in one write.

/** A handler the test lets finish: it says when it started and when its signal aborted. */
interface HeldHandler {
  started: Promise<JobContext>;
  /** The signal's reason, once it aborts. */
  aborted: Promise<unknown>;
  finish(result: EchoResult): void;
  /** The handler's side. */
  onStart(context: JobContext): void;
  onAbort(reason: unknown): void;
  result: Promise<EchoResult>;
}

type EchoResult = JobPayload<'system.echo'>;

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('running written only for a handler that outlasts the delay (real PostgreSQL, Redis and BullMQ)', () => {
  let h: WorkerHarness;
  let live: LiveWorker;
  /** Each attempt's context, by job id. */
  const calls = new Map<string, JobContext[]>();
  /** Jobs whose handler waits for the test (by payload `data`). */
  const held = new Map<string, HeldHandler>();
  // read by the processor at each attempt
  let delayMs = 1_000;

  function hold(data: string): HeldHandler {
    const started = deferred<JobContext>();
    const aborted = deferred<unknown>();
    const finished = deferred<EchoResult>();
    const handler: HeldHandler = {
      started: started.promise,
      aborted: aborted.promise,
      finish: finished.resolve,
      onStart: started.resolve,
      onAbort: aborted.resolve,
      result: finished.promise,
    };
    held.set(data, handler);
    return handler;
  }

  beforeAll(async () => {
    h = await createWorkerHarness('running_status');
    live = await startLiveWorker(h, {
      jobs: createJobRepository(h.db, { workerId: 'worker-under-test' }),
      echo: async (payload, context, real) => {
        calls.set(context.id, [...(calls.get(context.id) ?? []), context]);
        const control = typeof payload.data === 'string' ? held.get(payload.data) : undefined;
        if (!control) return real(payload, context);
        context.signal.addEventListener('abort', () => control.onAbort(context.signal.reason));
        control.onStart(context);
        return control.result;
      },
      runningStatusDelayMs: () => delayMs,
    });
  });
  afterAll(async () => {
    for (const control of held.values()) control.finish({});
    await live?.close();
    await h?.close();
  });
  beforeEach(() => {
    delayMs = 1_000;
  });

  const statusEvents = (id: string) =>
    live.announced.filter((m) => m.jobId === id && m.kind === 'status').length;

  it('takes a short job from queued to succeeded in one write that records its start', async () => {
    const job = await h.submit('system.echo', { data: 'short' });
    const row = await h.waitForRow(job.id, (r) => r.status === 'succeeded');
    expect(row).toMatchObject({
      result: { data: 'short' },
      attempts: 1,
      workerId: 'worker-under-test',
      progress: null,
    });
    expect(row.startedAt).toBeInstanceOf(Date);
    expect(row.attemptStartedAt).toEqual(row.startedAt);
    expect(row.startedAt?.getTime()).toBeLessThanOrEqual(row.finishedAt?.getTime() ?? 0);
    expect(await createJobAttemptLog(h.db).listForJob(job.id)).toMatchObject([
      { attempt: 1, outcome: 'succeeded', workerId: 'worker-under-test' },
    ]);
    expect(calls.get(job.id)?.map((c) => [c.attempt, c.maxAttempts])).toEqual([[1, 3]]);
    // the event streams heard of one change only: queued → succeeded
    await expect.poll(() => statusEvents(job.id), { timeout: READY_DEADLINE_MS }).toBe(1);
  });

  it('writes running once the handler has run for the delay', async () => {
    delayMs = 300;
    const control = hold('long');
    const job = await h.submit('system.echo', { data: 'long' });
    await control.started;
    const running = await h.waitForRow(job.id, (r) => r.status === 'running');
    expect(running).toMatchObject({ attempts: 1, workerId: 'worker-under-test' });
    control.finish({ data: 'done' });
    const row = await h.waitForRow(job.id, (r) => r.status === 'succeeded');
    expect(row).toMatchObject({ result: { data: 'done' }, attempts: 1 });
    expect(row.startedAt).toEqual(running.startedAt);
    await expect.poll(() => statusEvents(job.id), { timeout: READY_DEADLINE_MS }).toBe(2);
  });

  it('answers cancel_requested for a job whose handler runs before running was written, aborts it, and ends it cancelled', async () => {
    delayMs = 60_000;
    const control = hold('cancel-held');
    const job = await h.submit('system.echo', { data: 'cancel-held' });
    await control.started;
    // what the api does on POST /v1/jobs/:id/cancel: the worker holds the job, so not "cancelled"
    const outcome = await h.jobs.cancel(job.id, h.release);
    expect(outcome).toMatchObject({
      outcome: 'cancel_requested',
      job: { status: 'queued', cancelRequestedAt: expect.any(Date) },
    });
    await h.redis.publish(jobCancelChannel(h.config.QUEUE_PREFIX), job.id);
    expect(String(await control.aborted)).toContain('cancelled on request');
    control.finish({});
    const row = await h.waitForRow(job.id, (r) => r.status === 'cancelled');
    expect(row).toMatchObject({ attempts: 1, workerId: 'worker-under-test' });
    expect(row.startedAt).toBeInstanceOf(Date);
    expect(await createJobAttemptLog(h.db).listForJob(job.id)).toMatchObject([
      { attempt: 1, outcome: 'cancelled' },
    ]);
  });

  it('ends cancelled a short job whose cancellation news did not reach the worker', async () => {
    delayMs = 60_000;
    const control = hold('cancel-unannounced');
    const job = await h.submit('system.echo', { data: 'cancel-unannounced' });
    await control.started;
    expect((await h.jobs.cancel(job.id, h.release)).outcome).toBe('cancel_requested');
    // no announcement: the success's own statement finds the request on the row
    control.finish({ data: 'late' });
    const row = await h.waitForRow(job.id, (r) => r.status === 'cancelled');
    expect(row).toMatchObject({ result: { data: 'late' }, attempts: 1 });
  });

  it('aborts the handler when the delayed running write finds the cancellation requested', async () => {
    // long enough for the request to be recorded first, even on a busy machine
    delayMs = 3_000;
    const control = hold('cancel-found');
    const job = await h.submit('system.echo', { data: 'cancel-found' });
    await control.started;
    // recorded on the row, not announced: the running write reads it
    expect((await h.jobs.cancel(job.id, h.release)).outcome).toBe('cancel_requested');
    expect(String(await control.aborted)).toContain('cancelled on request');
    control.finish({});
    expect(await h.waitForRow(job.id, (r) => r.status === 'cancelled')).toMatchObject({
      attempts: 1,
    });
  });

  it('does not run a job whose cancellation was answered 202 while a worker held it and let go of it', async () => {
    await live.worker.pause();
    const connection = h.redis.duplicate({ maxRetriesPerRequest: null });
    // another worker takes it (parks it, or postpones it) and puts it back, the row still queued
    const other = new Worker(QUEUE_NAME, null, { connection, prefix: h.config.QUEUE_PREFIX });
    let job: Awaited<ReturnType<WorkerHarness['submit']>>;
    try {
      job = await h.submit('system.echo', { data: 'let-go' });
      const taken = await other.getNextJob('other-token');
      expect(taken?.id).toBe(job.id);
      expect((await h.jobs.cancel(job.id, h.release)).outcome).toBe('cancel_requested');
      await taken?.moveToWait('other-token');
    } finally {
      await other.close();
      connection.disconnect();
      live.worker.resume();
    }
    // running first (a later delivery writes it before the handler), then cancelled: never run
    const row = await h.waitForRow(job.id, (r) => r.status !== 'queued' && r.status !== 'running');
    expect(row).toMatchObject({ status: 'cancelled', result: null });
    expect(calls.has(job.id)).toBe(false);
  });

  it('cancels a job no worker holds at once, and it never runs', async () => {
    const { job } = await h.jobs.create({ type: 'system.echo', payload: {}, maxAttempts: 1 });
    await enqueueJob(h.queue, {
      id: job.id,
      type: 'system.echo',
      payload: {},
      maxAttempts: 1,
      runAt: new Date(Date.now() + 2_000),
      rowCount: { attemptsUsed: 0, expiresAt: null },
    });
    const outcome = await h.jobs.cancel(job.id, h.release);
    expect(outcome).toMatchObject({ outcome: 'cancelled', job: { status: 'cancelled' } });
    // off the queue: no worker can take it any more
    expect(await h.queue.getJob(job.id)).toBeUndefined();
    expect(calls.has(job.id)).toBe(false);
  });

  it('counts the attempts of a job that fails and is retried, writing running before the failure', async () => {
    const job = await h.submit('system.echo', { data: 'retried', failAttempts: 1 });
    const row = await h.waitForRow(job.id, (r) => r.status === 'succeeded');
    expect(row.attempts).toBe(2);
    expect(calls.get(job.id)?.map((c) => [c.attempt, c.maxAttempts])).toEqual([
      [1, 3],
      [2, 3],
    ]);
    expect(
      (await createJobAttemptLog(h.db).listForJob(job.id)).map((a) => [a.attempt, a.outcome]),
    ).toEqual([
      [1, 'retrying'],
      [2, 'succeeded'],
    ]);
  });

  it("tells the handler of a job enqueued again with the attempts it had left the row's numbers", async () => {
    const { job } = await h.jobs.create({
      type: 'system.echo',
      payload: { data: 'requeued' },
      maxAttempts: 4,
    });
    // two attempts used, then its BullMQ job was lost: reconcile adds it with the two left
    await h.jobs.markRunning(job.id, 2);
    await h.jobs.markFailed(job.id, { error: 'Error: lost', final: false });
    await enqueueJob(h.queue, {
      id: job.id,
      type: 'system.echo',
      payload: { data: 'requeued' },
      maxAttempts: 2,
      rowCount: { attemptsUsed: 2, expiresAt: null },
    });
    const row = await h.waitForRow(job.id, (r) => r.status === 'succeeded');
    expect(row.attempts).toBe(3);
    expect(calls.get(job.id)?.map((c) => [c.attempt, c.maxAttempts])).toEqual([[3, 4]]);
    expect(await createJobAttemptLog(h.db).listForJob(job.id)).toMatchObject([
      { attempt: 3, outcome: 'succeeded' },
    ]);
  });

  it('never runs a job past its ttl', async () => {
    const { job } = await h.jobs.create({
      type: 'system.echo',
      payload: {},
      maxAttempts: 1,
      ttl: 1,
    });
    // due now, its deadline already gone when a worker takes it
    await h.db.pool.query(
      `UPDATE jobs SET expires_at = now() - interval '1 second' WHERE id = $1`,
      [job.id],
    );
    const expiresAt = (await h.jobs.findById(job.id))?.expiresAt;
    await enqueueJob(h.queue, {
      id: job.id,
      type: 'system.echo',
      payload: {},
      maxAttempts: 1,
      rowCount: { attemptsUsed: 0, expiresAt: expiresAt?.toISOString() ?? null },
    });
    const row = await h.waitForRow(job.id, (r) => r.status === 'expired');
    expect(row).toMatchObject({ attempts: 0, startedAt: null });
    expect(calls.has(job.id)).toBe(false);
  });
});

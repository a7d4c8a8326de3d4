import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { enqueueJob } from '@repo/jobs';
import {
  freePort,
  READY_DEADLINE_MS,
  type ServiceProcess,
  startServiceProcess,
  TEST_REDIS_URL,
} from '@repo/testing';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiUnderTest, auth, startApiUnderTest } from './testing/api-under-test.ts';

const workerEntry = new URL('../../worker/src/main.ts', import.meta.url).pathname;

interface JobBody {
  id: string;
  status: string;
  attempts: number;
  progress: { percent: number; message: string | null; updatedAt: string } | null;
  cancelRequestedAt: string | null;
  finishedAt: string | null;
  result: unknown;
}

describe('cancelling running jobs and their progress (two worker processes, real PostgreSQL and Redis)', () => {
  let api: ApiUnderTest;
  const workers: ServiceProcess[] = [];

  beforeAll(async () => {
    api = await startApiUnderTest('job-cancel-progress');
    for (let i = 0; i < 2; i += 1) {
      const healthPort = await freePort();
      const worker = startServiceProcess(workerEntry, {
        DATABASE_URL: api.config.DATABASE_URL.reveal(),
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: api.prefix,
        WEBHOOK_SIGNING_SECRET: `whsec_${Buffer.from('e2e-webhook-signing-secret-0123456789abcdef').toString('base64')}`,
        WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
        HEALTH_HOST: '127.0.0.1',
        HEALTH_PORT: String(healthPort),
        // one job at a time each: two long jobs running at once are one in each process
        WORKER_CONCURRENCY: '1',
      });
      workers.push(worker);
      await worker.waitForHttp(`http://127.0.0.1:${healthPort}/health/ready`);
    }
  });
  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.stop()));
    await api?.close();
  });

  const post = async (body: object) =>
    (await request(api.url).post('/v1/jobs').set(auth).send(body).expect(202)).body as JobBody;
  const read = async (id: string) =>
    (await request(api.url).get(`/v1/jobs/${id}`).set(auth).expect(200)).body as JobBody;
  async function waitForJob(id: string, done: (job: JobBody) => boolean): Promise<JobBody> {
    const deadline = Date.now() + READY_DEADLINE_MS;
    let job = await read(id);
    while (!done(job) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      job = await read(id);
    }
    expect(done(job), JSON.stringify(job)).toBe(true);
    return job;
  }
  /** The BullMQ job's state once its worker has let go of it (it ends just after its row). */
  async function settledQueueState(id: string): Promise<string | undefined> {
    const deadline = Date.now() + READY_DEADLINE_MS;
    let state = await (await api.queue.getJob(id))?.getState();
    while (state === 'active' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      state = await (await api.queue.getJob(id))?.getState();
    }
    return state;
  }
  const cancel = (id: string) => request(api.url).post(`/v1/jobs/${id}/cancel`).set(auth);

  it('aborts a running job in whichever worker process holds it; it ends cancelled, not retried', async () => {
    // 60 s delays: a job ending within the test's deadline ended because it was aborted
    const jobs = [
      await post({ type: 'system.echo', payload: { delayMs: 60_000 } }),
      await post({ type: 'system.echo', payload: { delayMs: 60_000 } }),
    ];
    for (const job of jobs) await waitForJob(job.id, (j) => j.status === 'running');

    for (const job of jobs) {
      const res = await cancel(job.id);
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({
        id: job.id,
        status: 'running',
        cancelRequestedAt: expect.any(String),
      });
    }
    const stoppedAfterMs: number[] = [];
    for (const job of jobs) {
      const ended = await waitForJob(job.id, (j) => j.status !== 'running');
      expect(ended).toMatchObject({ status: 'cancelled', attempts: 1 });
      expect(ended.finishedAt).not.toBeNull();
      // both times from PostgreSQL's clock: the request recorded, the cancelled attempt recorded
      stoppedAfterMs.push(
        Date.parse(ended.finishedAt ?? '') - Date.parse(ended.cancelRequestedAt ?? ''),
      );
      // BullMQ finishes it too, just after the row: no retry follows
      expect(await settledQueueState(job.id)).toBe('completed');
    }
    // each process aborted the job it held
    const aborted = await Promise.all(
      workers.map((worker) =>
        worker.waitForLog((line) => line.msg === 'job cancelled on request: aborting its handler'),
      ),
    );
    expect(aborted.map((line) => line.jobId).sort()).toEqual(jobs.map((job) => job.id).sort());
    // the figure bench/findings.md quotes
    process.stdout.write(`${JSON.stringify({ cancelRequestToCancelledMs: stoppedAfterMs })}\n`);
  });

  it('aborts the request of a webhook delivery that is cancelled', async () => {
    const arrived: IncomingMessage[] = [];
    const closed = new Set<IncomingMessage>();
    // a destination that never answers
    const hook = createServer((req) => {
      arrived.push(req);
      req.socket.once('close', () => closed.add(req));
    });
    hook.listen(0, '127.0.0.1');
    await new Promise((resolve) => hook.once('listening', resolve));
    try {
      const job = await post({
        type: 'webhook.deliver',
        payload: { url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`, body: {} },
      });
      await waitForJob(job.id, (j) => j.status === 'running' && arrived.length > 0);
      expect((await cancel(job.id)).status).toBe(202);
      expect(await waitForJob(job.id, (j) => j.status !== 'running')).toMatchObject({
        status: 'cancelled',
        attempts: 1,
      });
      // the worker hung up on the destination
      const deadline = Date.now() + READY_DEADLINE_MS;
      while (closed.size === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(closed.size).toBe(1);
    } finally {
      hook.closeAllConnections();
      hook.close();
    }
  });

  it('does not run a job whose cancellation was requested before its attempt started', async () => {
    // the row as a worker that died left it: running, then a client asked to cancel it
    const { job } = await api.jobs.create({
      type: 'system.echo',
      payload: { data: 'never run' },
      maxAttempts: 3,
    });
    await api.jobs.markRunning(job.id, 1);
    expect((await cancel(job.id)).status).toBe(202);
    // delivered (again) to a worker: it finds the request on the row
    await enqueueJob(api.queue, {
      id: job.id,
      type: 'system.echo',
      payload: { data: 'never run' },
      maxAttempts: 3,
    });
    const ended = await waitForJob(job.id, (j) => j.status !== 'running');
    expect(ended).toMatchObject({ status: 'cancelled', result: null });
  });

  it('reports progress while a job runs, and its last report once it has finished', async () => {
    const job = await post({ type: 'system.echo', payload: { delayMs: 3_000 } });
    const during = await waitForJob(
      job.id,
      (j) => j.status === 'running' && j.progress !== null && j.progress.percent < 100,
    );
    expect(during.progress).toEqual({
      percent: expect.any(Number),
      message: expect.stringMatching(/^waited \d+ of 3000 ms$/),
      updatedAt: expect.stringMatching(/Z$/),
    });
    const done = await waitForJob(job.id, (j) => j.status === 'succeeded');
    expect(done.progress).toMatchObject({ percent: 100, message: 'waited 3000 of 3000 ms' });
  });
});

import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { READY_DEADLINE_MS } from '@repo/testing';
import { verifyWebhook } from '@repo/webhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkerService } from './service.ts';
import { createWorkerHarness, type WorkerHarness } from './testing/worker-harness.ts';

const finished = (row: { status: string }) =>
  ['succeeded', 'failed', 'cancelled'].includes(row.status);

describe('job processing (real PostgreSQL and Redis)', () => {
  let h: WorkerHarness;
  let worker: WorkerService;
  let receiver: Server;
  let receiverUrl: string;
  const received: { headers: IncomingMessage['headers']; body: string }[] = [];
  const statuses: number[] = [];

  beforeAll(async () => {
    h = await createWorkerHarness('processor');
    worker = await h.startWorker();
    receiver = createServer(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      received.push({ headers: req.headers, body });
      res.writeHead(statuses.shift() ?? 200).end('receiver says hi');
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  });
  afterAll(async () => {
    receiver.close();
    await h.close();
  });

  describe('system.echo', () => {
    it('succeeds with its payload as the result and records the attempt', async () => {
      const job = await h.submit('system.echo', { data: { hello: 'world' }, delayMs: 20 });
      const row = await h.waitForRow(job.id, finished);
      expect(row).toMatchObject({
        status: 'succeeded',
        attempts: 1,
        result: { data: { hello: 'world' }, delayMs: 20 },
        error: null,
      });
      expect(row.startedAt).toBeInstanceOf(Date);
      expect(row.finishedAt?.getTime()).toBeGreaterThanOrEqual(
        row.startedAt?.getTime() ?? Number.NaN,
      );
    });

    it('retries with exponential backoff until an attempt succeeds', async () => {
      const job = await h.submit('system.echo', { failAttempts: 2 }, { maxAttempts: 3 });
      const row = await h.waitForRow(job.id, finished);
      expect(row).toMatchObject({ status: 'succeeded', attempts: 3 });
      const queued = await h.queue.getJob(job.id);
      // backoff 1 s then 2 s: the last attempt starts at least 3 s after the first
      expect((queued?.processedOn ?? 0) - (queued?.timestamp ?? 0)).toBeGreaterThanOrEqual(3_000);
    });

    it('fails for good when the attempts run out, keeping the last error', async () => {
      const job = await h.submit('system.echo', { failAttempts: 5 }, { maxAttempts: 2 });
      const row = await h.waitForRow(job.id, finished);
      expect(row).toMatchObject({
        status: 'failed',
        attempts: 2,
        error: 'Error: failing attempt 2 of 5 as the payload asks',
      });
      expect(row.finishedAt).toBeInstanceOf(Date);
    });
  });

  describe('webhook.deliver', () => {
    it('delivers a body the receiver can verify', async () => {
      const job = await h.submit('webhook.deliver', {
        url: receiverUrl,
        body: { order: 7 },
        headers: { 'x-tenant': 'acme' },
      });
      const row = await h.waitForRow(job.id, finished);
      expect(row).toMatchObject({ status: 'succeeded', result: { status: 200 } });
      const delivery = received.find((r) => r.headers['webhook-id'] === job.id);
      expect(delivery?.body).toBe('{"order":7}');
      expect(delivery?.headers['x-tenant']).toBe('acme');
      expect(() =>
        verifyWebhook({
          headers: delivery?.headers ?? {},
          body: delivery?.body ?? '',
          secret: h.config.WEBHOOK_SIGNING_SECRET?.reveal() ?? '',
        }),
      ).not.toThrow();
    });

    it('retries a 503 and succeeds on the next attempt', async () => {
      statuses.push(503);
      const job = await h.submit('webhook.deliver', { url: receiverUrl, body: 'retry me' });
      const row = await h.waitForRow(job.id, finished);
      expect(row).toMatchObject({ status: 'succeeded', attempts: 2 });
      expect(received.filter((r) => r.headers['webhook-id'] === job.id)).toHaveLength(2);
    });

    // The socket error sits in the cause of the delivery error: it is the destination's problem,
    // not PostgreSQL's, so the attempts are used with backoff instead of postponed as an outage.
    it.each([
      [
        'refuses the connection',
        'http://127.0.0.1:1/hook',
        /^WebhookDeliveryError: http:\/\/127\.0\.0\.1:1 network error: ECONNREFUSED$/,
      ],
      [
        'cannot be resolved',
        'http://no-such-host.invalid/hook',
        /^WebhookDeliveryError: http:\/\/no-such-host\.invalid network error: (ENOTFOUND|EAI_AGAIN)$/,
      ],
    ])(
      'retries a destination that %s with backoff, then fails naming the problem',
      {
        timeout: 30_000,
      },
      async (_what, url, reason) => {
        const job = await h.submit('webhook.deliver', { url, body: {} }, { maxAttempts: 2 });
        const row = await h.waitForRow(job.id, finished, 20_000);
        expect(row).toMatchObject({ status: 'failed', attempts: 2 });
        expect(row.error).toMatch(reason);
        const queued = await h.queue.getJob(job.id);
        expect(queued?.attemptsMade).toBe(2);
        expect(await queued?.getState()).toBe('failed');
        // webhook.deliver backs off 2 s before its second attempt
        expect((queued?.processedOn ?? 0) - (queued?.timestamp ?? 0)).toBeGreaterThanOrEqual(2_000);
      },
    );

    it('fails at once on a 4xx, recording the status', async () => {
      statuses.push(404);
      const job = await h.submit(
        'webhook.deliver',
        { url: receiverUrl, body: null },
        { maxAttempts: 5 },
      );
      const row = await h.waitForRow(job.id, finished);
      expect(row.status).toBe('failed');
      expect(row.attempts).toBe(1);
      expect(row.error).toContain('answered 404: receiver says hi');
    });
  });

  describe('contract violations and odd rows', () => {
    it('fails a hand-pushed job with an invalid payload for good, and keeps working', async () => {
      const { job } = await h.jobs.create({ type: 'system.echo', payload: {}, maxAttempts: 3 });
      await h.queue.add('system.echo', { delayMs: 'soon' }, { jobId: job.id, attempts: 3 });
      const row = await h.waitForRow(job.id, finished);
      expect(row.status).toBe('failed');
      expect(row.attempts).toBe(0);
      expect(row.error).toContain('Invalid payload for job type "system.echo": delayMs:');
      // BullMQ records the attempt in Redis after the row is written: wait for it
      await expect
        .poll(async () => (await h.queue.getJob(job.id))?.attemptsMade, {
          timeout: READY_DEADLINE_MS,
        })
        .toBe(1);

      const next = await h.submit('system.echo', {});
      expect((await h.waitForRow(next.id, finished)).status).toBe('succeeded');
    });

    it('fails jobs of unknown types and jobs without a row, with reasons', async () => {
      const { job } = await h.jobs.create({ type: 'email.send', payload: {}, maxAttempts: 1 });
      await h.queue.add('email.send', {}, { jobId: job.id });
      expect(await h.waitForRow(job.id, finished)).toMatchObject({
        status: 'failed',
        error: expect.stringContaining('Unknown job type "email.send"'),
      });

      const orphan = await h.queue.add('system.echo', {}, { jobId: 'pushed-by-hand' });
      await expect
        .poll(async () => (await h.queue.getJob(orphan.id ?? ''))?.failedReason, {
          timeout: READY_DEADLINE_MS,
        })
        .toContain('has no record in Postgres');
    });

    it('skips a job that was cancelled before a worker took it', async () => {
      const { job } = await h.jobs.create({ type: 'system.echo', payload: {}, maxAttempts: 1 });
      await h.jobs.cancel(job.id, h.release);
      await h.queue.add('system.echo', {}, { jobId: job.id });
      await expect
        .poll(async () => (await h.queue.getJob(job.id))?.returnvalue, {
          timeout: READY_DEADLINE_MS,
        })
        .toEqual({ skipped: 'cancelled' });
      expect((await h.jobs.findById(job.id))?.status).toBe('cancelled');
    });

    it('gives a scheduled run its own row and records it', async () => {
      await h.queue.upsertJobScheduler(
        'echo-every-hour',
        { every: 3_600_000 },
        { name: 'system.echo', data: { data: 'tick' } },
      );
      await expect
        .poll(
          async () => {
            const { jobs } = await h.jobs.list({
              type: 'system.echo',
              status: 'succeeded',
              limit: 100,
            });
            return jobs.filter((j) => j.schedulerId === 'echo-every-hour').map((j) => j.result);
          },
          { timeout: READY_DEADLINE_MS },
        )
        .toEqual([{ data: 'tick' }]);
      await h.queue.removeJobScheduler('echo-every-hour');
    });
  });

  describe('maintenance', () => {
    it('reconcile enqueues rows left queued without a BullMQ job, once', async () => {
      const { job: orphan } = await h.jobs.create({
        type: 'system.echo',
        payload: { data: 'late' },
        maxAttempts: 1,
      });
      await h.db.prisma.$executeRawUnsafe(
        `UPDATE jobs SET updated_at = now() - interval '1 hour' WHERE id = $1::uuid`,
        orphan.id,
      );
      const first = await h.submit('maintenance.reconcile', {});
      const reconcile = await h.waitForRow(first.id, finished);
      expect(reconcile.result).toMatchObject({ requeued: 1 });
      expect(await h.waitForRow(orphan.id, finished)).toMatchObject({
        status: 'succeeded',
        result: { data: 'late' },
      });

      const second = await h.submit('maintenance.reconcile', {});
      expect((await h.waitForRow(second.id, finished)).result).toMatchObject({ requeued: 0 });
    });

    it('prune deletes finished rows older than the retention and keeps the rest', async () => {
      const old = await h.submit('system.echo', {});
      await h.waitForRow(old.id, finished);
      const fresh = await h.submit('system.echo', {});
      await h.waitForRow(fresh.id, finished);
      await h.db.prisma.$executeRawUnsafe(
        `UPDATE jobs SET finished_at = now() - interval '90 days' WHERE id = $1::uuid`,
        old.id,
      );
      const prune = await h.submit('maintenance.prune', {});
      const row = await h.waitForRow(prune.id, finished);
      expect(row.result).toEqual({ deleted: 1 });
      expect(await h.jobs.findById(old.id)).toBeNull();
      expect(await h.jobs.findById(fresh.id)).not.toBeNull();
    });
  });

  it('counts completed and failed jobs by type in its metrics', async () => {
    // the running worker's own registry, which its health port serves
    const text = await worker.registry.metrics();
    expect(text).toMatch(/jobstack_jobs_total\{type="system\.echo",outcome="succeeded"\} [1-9]/);
    // the 404, the refused and the unresolvable destination
    expect(text).toMatch(/jobstack_jobs_total\{type="webhook\.deliver",outcome="failed"\} 3/);
    expect(text).not.toMatch(/jobstack_jobs_postponed_total\{/);
    expect(text).toMatch(
      /jobstack_job_duration_seconds_count\{type="system\.echo",outcome="succeeded"\} [1-9]/,
    );
    expect(text).toMatch(/jobstack_job_wait_seconds_count\{type="system\.echo"\} [1-9]/);
    expect(text).toMatch(
      /jobstack_webhook_delivery_duration_seconds_count\{outcome="rejected"\} [1-9]/,
    );
    expect(text).toMatch(/jobstack_db_batch_size_count [1-9]/);
    expect(text).toMatch(/jobstack_jobs_active 0/);
  });
});

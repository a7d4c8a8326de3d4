import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createJobAttemptLog,
  createWebhookEndpointRepository,
  type WebhookEndpointRepository,
} from '@repo/db';
import { READY_DEADLINE_MS } from '@repo/testing';
import { createSecretBox, generateSigningSecret } from '@repo/webhooks';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createWorkerHarness,
  TEST_WEBHOOK_SECRETS_KEY,
  type WorkerHarness,
} from './testing/worker-harness.ts';

// A real worker (createWorkerService) delivering to a real HTTP receiver that verifies every
// request with the official Standard Webhooks library, as the README's receiver does.

interface Delivery {
  headers: Record<string, string>;
  body: string;
}

let h: WorkerHarness;
let endpoints: WebhookEndpointRepository;
let server: Server;
let receiverUrl: string;
const received: Delivery[] = [];
let answer = 204;
const box = createSecretBox(Buffer.from(TEST_WEBHOOK_SECRETS_KEY, 'base64'));

beforeAll(async () => {
  h = await createWorkerHarness('webhook_endpoints');
  endpoints = createWebhookEndpointRepository(h.db);
  server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    received.push({ headers: req.headers as IncomingHttpHeaders as Record<string, string>, body });
    res.writeHead(answer).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  receiverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  await h.startWorker();
});
afterAll(async () => {
  server?.closeAllConnections();
  server?.close();
  await h?.close();
});
beforeEach(async () => {
  received.length = 0;
  answer = 204;
  await h.db.pool.query('DELETE FROM webhook_endpoints');
});

/** An endpoint as the API creates one: its secret sealed under the endpoint's id. */
async function createEndpoint(extra: { eventTypes?: string[]; jobTypes?: string[] } = {}) {
  const id = randomUUID();
  const secret = generateSigningSecret();
  await endpoints.create({ id, url: receiverUrl, sealedSecret: box.seal(secret, id), ...extra });
  return { id, secret };
}

async function until<T>(
  what: string,
  find: () => T | undefined | Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + READY_DEADLINE_MS;
  for (;;) {
    const found = await find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const verifies = (secret: string, delivery: Delivery) => {
  try {
    new Webhook(secret).verify(delivery.body, delivery.headers);
    return true;
  } catch {
    return false;
  }
};

describe('webhook.deliver to an endpoint (real worker, real receiver)', () => {
  it("signs with the endpoint's secret, and with both secrets for a while after a rotation", async () => {
    const endpoint = await createEndpoint();
    const first = await h.submit('webhook.deliver', { endpointId: endpoint.id, body: { n: 1 } });
    await h.waitForRow(first.id, (row) => row.status === 'succeeded');
    const before = await until('the first delivery', () =>
      received.find((r) => r.headers['webhook-id'] === first.id),
    );
    expect(verifies(endpoint.secret, before)).toBe(true);
    expect(before.headers['webhook-signature']?.split(' ')).toHaveLength(1);
    expect(JSON.parse(before.body)).toEqual({ n: 1 });

    const next = generateSigningSecret();
    await endpoints.rotateSecret(endpoint.id, box.seal(next, endpoint.id), 86_400_000);
    const second = await h.submit('webhook.deliver', { endpointId: endpoint.id, body: { n: 2 } });
    await h.waitForRow(second.id, (row) => row.status === 'succeeded');
    const during = await until('the delivery after the rotation', () =>
      received.find((r) => r.headers['webhook-id'] === second.id),
    );
    expect(during.headers['webhook-signature']?.split(' ')).toHaveLength(2);
    expect(verifies(next, during)).toBe(true);
    expect(verifies(endpoint.secret, during)).toBe(true);
    expect(verifies(generateSigningSecret(), during)).toBe(false);

    // the day is over: only the new secret signs
    await h.db.pool.query(
      `UPDATE webhook_endpoints SET previous_secret_expires_at = now() - interval '1 second'`,
    );
    const third = await h.submit('webhook.deliver', { endpointId: endpoint.id, body: { n: 3 } });
    await h.waitForRow(third.id, (row) => row.status === 'succeeded');
    const after = await until('the delivery after the old secret expired', () =>
      received.find((r) => r.headers['webhook-id'] === third.id),
    );
    expect(verifies(next, after)).toBe(true);
    expect(verifies(endpoint.secret, after)).toBe(false);
  });

  it('records every attempt with the HTTP status, and fails for good once the endpoint is gone', async () => {
    const endpoint = await createEndpoint();
    answer = 503;
    const job = await h.submit(
      'webhook.deliver',
      { endpointId: endpoint.id, body: {} },
      { maxAttempts: 2 },
    );
    await until('the first attempt', () => (received.length > 0 ? true : undefined));
    answer = 204;
    await h.waitForRow(job.id, (row) => row.status === 'succeeded');
    const attempts = createJobAttemptLog(h.db);
    const history = await until('both attempts in the history', async () => {
      const rows = await attempts.listForJob(job.id);
      return rows.length === 2 ? rows : undefined;
    });
    expect(history).toEqual([
      expect.objectContaining({ attempt: 1, outcome: 'retrying', httpStatus: 503 }),
      expect.objectContaining({ attempt: 2, outcome: 'succeeded', httpStatus: 204, error: null }),
    ]);
    expect(history[0]?.error).toContain('answered 503');
    expect(history[0]?.workerId).toEqual(expect.any(String));

    await endpoints.delete(endpoint.id);
    const orphan = await h.submit('webhook.deliver', { endpointId: endpoint.id, body: {} });
    const failed = await h.waitForRow(orphan.id, (row) => row.status === 'failed');
    expect(failed.error).toContain(`webhook endpoint ${endpoint.id} no longer exists`);
    expect(failed.attempts).toBe(1);
  });
});

describe('job events (real worker, real receiver)', () => {
  it('sends job.failed, signed, to an endpoint subscribed to it, and nothing it did not ask for', async () => {
    const alerts = await createEndpoint({ eventTypes: ['job.failed'], jobTypes: ['system.echo'] });
    const successes = await createEndpoint({
      eventTypes: ['job.succeeded'],
      jobTypes: ['maintenance.prune'],
    });

    const failing = await h.submit('system.echo', { failAttempts: 5 }, { maxAttempts: 1 });
    await h.waitForRow(failing.id, (row) => row.status === 'failed');
    const ok = await h.submit('system.echo', { data: 'fine' }, { maxAttempts: 1 });
    await h.waitForRow(ok.id, (row) => row.status === 'succeeded');

    const event = await until('the job.failed event', () =>
      received.find((r) => r.body.includes(failing.id)),
    );
    expect(verifies(alerts.secret, event)).toBe(true);
    expect(verifies(successes.secret, event)).toBe(false);
    const body = new Webhook(alerts.secret).verify(event.body, event.headers) as {
      type: string;
      timestamp: string;
      data: Record<string, unknown>;
    };
    expect(body).toEqual({
      type: 'job.failed',
      timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      data: expect.objectContaining({
        id: failing.id,
        type: 'system.echo',
        status: 'failed',
        error: expect.stringContaining('Error'),
      }),
    });
    // the delivery is a job of its own: its id is the webhook-id, and its event raises none
    const delivery = await h.jobs.findById(event.headers['webhook-id'] ?? '');
    expect(delivery).toMatchObject({
      type: 'webhook.deliver',
      payload: { endpointId: alerts.id },
      idempotencyKey: expect.stringMatching(new RegExp(`^job-event:\\d+:${alerts.id}$`)),
    });
    await h.waitForRow(delivery?.id ?? '', (row) => row.status === 'succeeded');
    // what else arrived: nothing about the succeeded echo, nothing about the delivery itself
    expect(received.filter((r) => r.body.includes(ok.id))).toEqual([]);
    const { rows } = await h.db.pool.query('SELECT count(*)::int AS n FROM job_events');
    expect(rows[0]?.n).toBe(0);
  });
});

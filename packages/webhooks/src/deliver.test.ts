import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { isPublicAddress } from './address-guard.ts';
import { deliverWebhook, type WebhookDelivery, WebhookDeliveryError } from './deliver.ts';
import { verifyWebhook } from './signature.ts';

const secret = 'receiver-and-sender-share-this-secret';
let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

async function receiver(respond: (req: IncomingMessage, res: ServerResponse) => void) {
  const received: Received[] = [];
  server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    received.push({ headers: req.headers, body });
    respond(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { port, url: `http://127.0.0.1:${port}/hooks`, received };
}

const delivery = (url: string, extra: Partial<WebhookDelivery> = {}): WebhookDelivery => ({
  id: 'job-123',
  url,
  body: { event: 'order.paid', amount: 42 },
  secret,
  timeoutMs: 2_000,
  allowPrivateNetworks: true,
  ...extra,
});

async function failure(promise: Promise<unknown>): Promise<WebhookDeliveryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof WebhookDeliveryError))
    throw new Error(`expected a WebhookDeliveryError, got ${error}`);
  return error;
}

describe('deliverWebhook (real HTTP on loopback)', () => {
  it('POSTs signed JSON that the receiver verifies', async () => {
    const hook = await receiver((_req, res) => res.writeHead(204).end());
    const result = await deliverWebhook(delivery(hook.url, { headers: { 'x-tenant': 'acme' } }));
    expect(result).toEqual({ status: 204, durationMs: expect.any(Number) });
    const [request] = hook.received;
    expect(request?.body).toBe('{"event":"order.paid","amount":42}');
    expect(request?.headers).toMatchObject({
      'content-type': 'application/json',
      'x-tenant': 'acme',
      'webhook-id': 'job-123',
    });
    expect(
      verifyWebhook({ headers: request?.headers ?? {}, body: request?.body ?? '', secret }),
    ).toMatchObject({
      id: 'job-123',
    });
  });

  it.each([
    [500, true],
    [503, true],
    [429, true],
    [400, false],
    [404, false],
    [410, false],
    [301, false],
  ])('classifies status %i as retryable=%s and records it', async (status, retryable) => {
    const hook = await receiver((_req, res) =>
      res.writeHead(status, { location: '/elsewhere' }).end('no such hook'),
    );
    const error = await failure(deliverWebhook(delivery(hook.url)));
    expect(error).toMatchObject({ retryable, status });
    expect(error.message).toBe(`http://127.0.0.1:${hook.port} answered ${status}: no such hook`);
  });

  it('keeps only the start of a large error body', async () => {
    const hook = await receiver((_req, res) => res.writeHead(500).end('x'.repeat(1_000_000)));
    const error = await failure(deliverWebhook(delivery(hook.url)));
    expect(error.message.length).toBeLessThan(300);
  });

  it('gives up after the timeout and may retry', async () => {
    const hook = await receiver(() => {
      // never answers
    });
    const error = await failure(deliverWebhook(delivery(hook.url, { timeoutMs: 200 })));
    expect(error).toMatchObject({ retryable: true, status: undefined });
    expect(error.message).toContain('no response within 200 ms');
  });

  it("stops when the caller aborts, with the caller's reason", async () => {
    const hook = await receiver(() => {
      // never answers
    });
    const controller = new AbortController();
    const reason = new Error('shutting down');
    setTimeout(() => controller.abort(reason), 50);
    await expect(deliverWebhook(delivery(hook.url, { signal: controller.signal }))).rejects.toBe(
      reason,
    );
  });

  it('treats a refused connection as retryable', async () => {
    const hook = await receiver((_req, res) => res.end());
    server?.close();
    const error = await failure(deliverWebhook(delivery(hook.url)));
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('network error: ECONNREFUSED');
  });
});

describe('SSRF guard', () => {
  it.each([
    'http://127.0.0.1:{port}/hooks',
    'http://localhost:{port}/hooks',
    'http://[::1]:{port}/hooks',
    'http://[::ffff:127.0.0.1]:{port}/hooks',
    'http://169.254.169.254/latest/meta-data',
    'http://10.0.0.8/hooks',
    'http://0.0.0.0:{port}/hooks',
  ])('refuses %s for good unless private networks are allowed', async (template) => {
    const hook = await receiver((_req, res) => res.writeHead(204).end());
    const url = template.replace('{port}', String(hook.port));
    const error = await failure(deliverWebhook(delivery(url, { allowPrivateNetworks: false })));
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/^destination refused: .* is not a public address/);
    expect(hook.received).toEqual([]);
  });

  it.each([
    ['93.184.216.34', true],
    ['2606:2800:220:1:248:1893:25c8:1946', true],
    ['127.0.0.1', false],
    ['10.1.2.3', false],
    ['172.16.0.1', false],
    ['192.168.1.1', false],
    ['100.64.0.1', false],
    ['169.254.169.254', false],
    ['::1', false],
    ['fd00::1', false],
    ['fe80::1', false],
    ['::ffff:192.168.0.1', false],
    ['224.0.0.1', false],
    ['not-an-ip', false],
  ])('classifies %s as public=%s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });
});

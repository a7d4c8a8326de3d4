import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { isPublicAddress, type ResolveHost } from './address-guard.ts';
import { deliverWebhook, type WebhookDelivery, WebhookDeliveryError } from './deliver.ts';
import { verifyWebhook } from './signature.ts';
import { generateSigningSecret } from './signing-secret.ts';

const secret = generateSigningSecret();
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

  it('sends header values within the spec, which the official library verifies', async () => {
    const hook = await receiver((_req, res) => res.writeHead(204).end());
    const before = Math.floor(Date.now() / 1000);
    await deliverWebhook(delivery(hook.url));
    const after = Math.floor(Date.now() / 1000);
    const headers = hook.received[0]?.headers as Record<string, string>;
    expect(headers['webhook-id']).toBe('job-123');
    // Unix seconds, not milliseconds
    expect(headers['webhook-timestamp']).toMatch(/^\d{10}$/);
    expect(Number(headers['webhook-timestamp'])).toBeGreaterThanOrEqual(before);
    expect(Number(headers['webhook-timestamp'])).toBeLessThanOrEqual(after);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(new Webhook(secret).verify(hook.received[0]?.body ?? '', headers)).toEqual({
      event: 'order.paid',
      amount: 42,
    });
  });

  it('signs with every secret while rotating, so receivers on either one verify', async () => {
    const next = generateSigningSecret();
    const hook = await receiver((_req, res) => res.writeHead(204).end());
    await deliverWebhook(delivery(hook.url, { secret: [next, secret] }));
    const headers = hook.received[0]?.headers as Record<string, string>;
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}= v1,[A-Za-z0-9+/]{43}=$/);
    for (const key of [next, secret]) {
      expect(new Webhook(key).verify(hook.received[0]?.body ?? '', headers)).toMatchObject({
        event: 'order.paid',
      });
    }
    expect(() =>
      new Webhook(generateSigningSecret()).verify(hook.received[0]?.body ?? '', headers),
    ).toThrow('No matching signature found');
  });

  it.each([
    [
      'a secret in the format before whsec_',
      { secret: 'receiver-and-sender-share-this-secret' },
      'starts with whsec_',
    ],
    ['an id the spec forbids', { id: 'job.123' }, 'no "."'],
  ])('fails for good, sending nothing, with %s', async (_case, change, reason) => {
    const hook = await receiver((_req, res) => res.writeHead(204).end());
    const error = await failure(deliverWebhook(delivery(hook.url, change)));
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/^cannot sign the delivery: /);
    expect(error.message).toContain(reason);
    expect(error.message).not.toContain('receiver-and-sender');
    expect(hook.received).toEqual([]);
  });

  it('fails for good on a URL that does not parse', async () => {
    const error = await failure(deliverWebhook(delivery('http://[fe80::1%25eth0]/hooks')));
    expect(error).toMatchObject({ retryable: false, message: 'the URL is not valid' });
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
  // Encodings of internal addresses, as written in a webhook URL. WHATWG URL parsing turns the
  // IPv4 forms into dotted decimal before the guard sees them; IPv6 literals are checked as
  // written. `reachable`: with the guard off, the URL reaches the loopback receiver, which proves
  // the refusal is the guard's doing and not a dead address.
  it.each([
    ['loopback', 'http://127.0.0.1:{port}/hooks', 'loopback', true],
    ['loopback, decimal', 'http://2130706433:{port}/hooks', 'loopback', true],
    ['loopback, octal', 'http://0177.0.0.1:{port}/hooks', 'loopback', true],
    ['loopback, octal as one number', 'http://017700000001:{port}/hooks', 'loopback', true],
    ['loopback, hex', 'http://0x7f000001:{port}/hooks', 'loopback', true],
    ['loopback, dotted hex', 'http://0x7f.0x0.0x0.0x1:{port}/hooks', 'loopback', true],
    ['loopback, shortened', 'http://127.1:{port}/hooks', 'loopback', true],
    ['loopback, trailing dot', 'http://127.0.0.1.:{port}/hooks', 'loopback', true],
    ['loopback, percent-encoded', 'http://%31%32%37.0.0.1:{port}/hooks', 'loopback', true],
    ['loopback, full-width digits', 'http://１２７.０.０.１:{port}/hooks', 'loopback', true],
    ['loopback, IPv4-mapped', 'http://[::ffff:127.0.0.1]:{port}/hooks', 'loopback', true],
    ['loopback, IPv4-mapped in hex', 'http://[::ffff:7f00:1]:{port}/hooks', 'loopback', true],
    ['loopback, IPv4-compatible', 'http://[::127.0.0.1]:{port}/hooks', 'ipv4Compatible', false],
    ['loopback, IPv6', 'http://[::1]:{port}/hooks', 'loopback', false],
    ['loopback via NAT64', 'http://[64:ff9b::127.0.0.1]:{port}/hooks', 'rfc6052', false],
    ['loopback via 6to4', 'http://[2002:7f00:1::1]:{port}/hooks', '6to4', false],
    ['unspecified', 'http://0.0.0.0:{port}/hooks', 'unspecified', false],
    ['unspecified, as 0', 'http://0:{port}/hooks', 'unspecified', false],
    ['unspecified, IPv6', 'http://[::]:{port}/hooks', 'unspecified', false],
    ['metadata', 'http://169.254.169.254/latest/meta-data', 'linkLocal', false],
    ['metadata, decimal', 'http://2852039166/latest/meta-data', 'linkLocal', false],
    ['metadata, octal', 'http://0251.0376.0251.0376/latest/meta-data', 'linkLocal', false],
    ['metadata, hex', 'http://0xa9fea9fe/latest/meta-data', 'linkLocal', false],
    ['metadata, two parts', 'http://169.254.43518/latest/meta-data', 'linkLocal', false],
    [
      'metadata, IPv4-mapped',
      'http://[::ffff:169.254.169.254]/latest/meta-data',
      'linkLocal',
      false,
    ],
    [
      'metadata, IPv4-compatible',
      'http://[::169.254.169.254]/latest/meta-data',
      'ipv4Compatible',
      false,
    ],
    [
      'metadata, IPv4-compatible in hex',
      'http://[::a9fe:a9fe]/latest/meta-data',
      'ipv4Compatible',
      false,
    ],
    ['metadata, IPv4-translated', 'http://[::ffff:0:a9fe:a9fe]/latest/meta-data', 'rfc6145', false],
    ['metadata via NAT64', 'http://[64:ff9b::a9fe:a9fe]/latest/meta-data', 'rfc6052', false],
    [
      'metadata via local-use NAT64',
      'http://[64:ff9b:1::a9fe:a9fe]/latest/meta-data',
      'rfc6052',
      false,
    ],
    ['metadata via 6to4', 'http://[2002:a9fe:a9fe::]/latest/meta-data', '6to4', false],
    ['metadata via Teredo', 'http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', 'teredo', false],
    ['metadata, AWS IPv6', 'http://[fd00:ec2::254]/latest/meta-data', 'uniqueLocal', false],
    [
      'metadata, Alibaba Cloud',
      'http://100.100.100.200/latest/meta-data',
      'carrierGradeNat',
      false,
    ],
    ['metadata, ECS task', 'http://169.254.170.2/v2/metadata', 'linkLocal', false],
    ['link-local IPv6', 'http://[fe80::1]:{port}/hooks', 'linkLocal', false],
    [
      'link-local IPv6 embedding the metadata address',
      'http://[fe80::a9fe:a9fe]/',
      'linkLocal',
      false,
    ],
    ['private', 'http://10.0.0.8/hooks', 'private', false],
    ['private, IPv4-mapped', 'http://[::ffff:192.168.0.1]/hooks', 'private', false],
    ['unique-local IPv6', 'http://[fd00::1]/hooks', 'uniqueLocal', false],
    ['reserved IPv6 outside 2000::/3', 'http://[4000::1]/hooks', 'reserved', false],
  ])('refuses %s (%s) for good, sending nothing', async (_case, template, range, reachable) => {
    const hook = await receiver((_req, res) => res.writeHead(204).end());
    const url = template.replace('{port}', String(hook.port));
    const error = await failure(deliverWebhook(delivery(url, { allowPrivateNetworks: false })));
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/^destination refused: \S+ is not a public address \((\w+)\)/);
    expect(error.message).toContain(`(${range})`);
    expect(hook.received).toEqual([]);
    if (reachable) {
      await expect(deliverWebhook(delivery(url))).resolves.toMatchObject({ status: 204 });
      expect(hook.received).toHaveLength(1);
    }
  });

  // The same addresses as DNS answers: a public-looking name that resolves (or re-resolves, DNS
  // rebinding) to them is refused when the connection is made.
  const resolvingTo =
    (...addresses: string[]): ResolveHost =>
    async () =>
      addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

  // Node prints IPv4-compatible answers in dotted form (::127.0.0.1, as inet_ntop does).
  it.each([
    [['127.0.0.1'], 'loopback'],
    [['::ffff:127.0.0.1'], 'loopback'],
    [['::127.0.0.1'], 'ipv4Compatible'],
    [['::169.254.169.254'], 'ipv4Compatible'],
    [['::8.8.8.8'], 'ipv4Compatible'],
    [['::a9fe:a9fe'], 'ipv4Compatible'],
    [['169.254.169.254'], 'linkLocal'],
    [['::ffff:169.254.169.254'], 'linkLocal'],
    [['64:ff9b::a9fe:a9fe'], 'rfc6052'],
    [['2002:a9fe:a9fe::'], '6to4'],
    [['fe80::a9fe:a9fe'], 'linkLocal'],
    [['fd00:ec2::254'], 'uniqueLocal'],
    [['100.100.100.200'], 'carrierGradeNat'],
    [['93.184.216.34', '10.0.0.8'], 'private'],
  ])('refuses a host name resolving to %j (%s)', async (addresses, range) => {
    const hook = await receiver((_req, res) => res.writeHead(204).end());
    const error = await failure(
      deliverWebhook(
        delivery(`http://hooks.example.test:${hook.port}/hooks`, {
          allowPrivateNetworks: false,
          resolveHost: resolvingTo(...addresses),
        }),
      ),
    );
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(
      `destination refused: hooks.example.test resolves to ${addresses.at(-1)}, which is not a public address (${range})`,
    );
    expect(hook.received).toEqual([]);
  });

  it('connects to what the resolver answered when private networks are allowed', async () => {
    const hook = await receiver((_req, res) => res.writeHead(204).end());
    const asked: string[] = [];
    const resolveHost: ResolveHost = async (hostname) => {
      asked.push(hostname);
      return [{ address: '127.0.0.1', family: 4 }];
    };
    const url = `http://hooks.example.test:${hook.port}/hooks`;
    await expect(deliverWebhook(delivery(url, { resolveHost }))).resolves.toMatchObject({
      status: 204,
    });
    expect(asked).toEqual(['hooks.example.test']);
    expect(hook.received).toHaveLength(1);
  });

  it('refuses localhost through the system resolver', async () => {
    const hook = await receiver((_req, res) => res.writeHead(204).end());
    const url = `http://localhost:${hook.port}/hooks`;
    const error = await failure(deliverWebhook(delivery(url, { allowPrivateNetworks: false })));
    expect(error.message).toMatch(
      /^destination refused: localhost resolves to \S+, which is not a public address \(loopback\)/,
    );
    expect(hook.received).toEqual([]);
  });

  it.each([
    ['93.184.216.34', true],
    ['1.1.1.1', true],
    ['2606:2800:220:1:248:1893:25c8:1946', true],
    ['2606:4700:4700::1111', true],
    ['::ffff:93.184.216.34', true],
    ['127.0.0.1', false],
    ['10.1.2.3', false],
    ['172.16.0.1', false],
    ['192.168.1.1', false],
    ['100.64.0.1', false],
    ['169.254.169.254', false],
    ['192.0.0.192', false],
    ['198.18.0.1', false],
    ['255.255.255.255', false],
    ['::1', false],
    ['::', false],
    ['::127.0.0.1', false],
    ['::a9fe:a9fe', false],
    ['::8.8.8.8', false],
    ['fd00::1', false],
    ['fe80::1', false],
    ['fec0::1', false],
    ['::ffff:192.168.0.1', false],
    ['64:ff9b::808:808', false],
    ['2001:db8::1', false],
    ['4000::1', false],
    ['224.0.0.1', false],
    ['ff02::1', false],
    ['not-an-ip', false],
  ])('classifies %s as public=%s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });
});

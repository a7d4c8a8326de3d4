import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig } from '@repo/config';
import { createLogger } from '@repo/logger';
import { createWebhookDeliveryMetrics, type WebhookDeliveryMetrics } from '@repo/metrics';
import { generateSigningSecret, signingKey, WebhookSigningError } from '@repo/webhooks';
import { UnrecoverableError } from 'bullmq';
import { Registry } from 'prom-client';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { type WorkerConfig, workerEnv } from '../env.ts';
import { webhookDeliver } from './webhook-deliver.ts';

const SIGNING_SECRET = generateSigningSecret();
const base = {
  NODE_ENV: 'test',
  DATABASE_URL: 'postgresql://unused@127.0.0.1/unused',
  REDIS_URL: 'redis://127.0.0.1:6379',
  WEBHOOK_SIGNING_SECRET: SIGNING_SECRET,
};

const servers: ReturnType<typeof createServer>[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

async function receiver() {
  const received: { headers: IncomingHttpHeaders; body: Buffer }[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    received.push({ headers: req.headers, body: Buffer.concat(chunks) });
    res.end();
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, received };
}

async function context() {
  const logger = await createLogger({
    service: 'test',
    version: '0',
    config: { NODE_ENV: 'test', LOG_LEVEL: 'silent' },
  });
  return {
    id: crypto.randomUUID(),
    attempt: 1,
    maxAttempts: 3,
    signal: new AbortController().signal,
    progress: () => {},
    logger,
    details: {},
  };
}

/** Deliveries to raw URLs only: no endpoint is ever looked up. */
function rawUrlDeps(config: WorkerConfig, metrics: WebhookDeliveryMetrics) {
  const endpoints = {
    findById: () => Promise.reject(new Error('a raw url delivery looked an endpoint up')),
  };
  return { config, metrics, endpoints, secretBox: undefined };
}

describe('webhook.deliver handler', () => {
  it('refuses loopback destinations for good unless WEBHOOK_ALLOW_PRIVATE_NETWORKS is on', async () => {
    const hook = await receiver();
    const url = `http://localhost:${hook.port}/hook`;
    const ctx = await context();

    const registry = new Registry();
    const metrics = createWebhookDeliveryMetrics(registry);
    const guarded = webhookDeliver(rawUrlDeps(loadConfig(workerEnv, base), metrics));
    const refusal = await guarded({ url, body: {} }, ctx).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(UnrecoverableError);
    expect((refusal as Error).message).toMatch(
      /^destination refused: localhost resolves to .* which is not a public address/,
    );
    expect(hook.received).toHaveLength(0);

    const open = webhookDeliver(
      rawUrlDeps(
        loadConfig(workerEnv, { ...base, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' }),
        metrics,
      ),
    );
    await expect(open({ url, body: {} }, ctx)).resolves.toMatchObject({ status: 200 });
    expect(hook.received).toHaveLength(1);
    const text = await registry.metrics();
    expect(text).toContain(
      'jobstack_webhook_delivery_duration_seconds_count{outcome="rejected"} 1',
    );
    expect(text).toContain(
      'jobstack_webhook_delivery_duration_seconds_count{outcome="delivered"} 1',
    );
  });

  it('signs so that a receiver verifies with the official library and the same WEBHOOK_SIGNING_SECRET', async () => {
    const hook = await receiver();
    const ctx = await context();
    const deliver = webhookDeliver(
      rawUrlDeps(
        loadConfig(workerEnv, { ...base, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' }),
        createWebhookDeliveryMetrics(new Registry()),
      ),
    );
    await deliver({ url: `http://127.0.0.1:${hook.port}/hook`, body: { order: 7 } }, ctx);
    const [delivery] = hook.received;
    // what the README's receiver does: the raw body and the request's headers
    const event = new Webhook(SIGNING_SECRET).verify(
      delivery?.body ?? Buffer.alloc(0),
      delivery?.headers as Record<string, string>,
    );
    expect(event).toEqual({ order: 7 });
    expect(delivery?.headers['webhook-id']).toBe(ctx.id);
  });
});

describe('webhook.deliver to a raw url where WEBHOOK_ALLOW_RAW_URLS is off', () => {
  it('fails for good without sending anything, and says what to use instead', async () => {
    const hook = await receiver();
    const ctx = await context();
    const deliver = webhookDeliver(
      rawUrlDeps(
        loadConfig(workerEnv, {
          ...base,
          WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
          WEBHOOK_ALLOW_RAW_URLS: 'false',
        }),
        createWebhookDeliveryMetrics(new Registry()),
      ),
    );
    const refusal = await deliver(
      { url: `http://127.0.0.1:${hook.port}/hook`, body: {} },
      ctx,
    ).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(UnrecoverableError);
    expect((refusal as Error).message).toContain('WEBHOOK_ALLOW_RAW_URLS is off');
    expect(hook.received).toEqual([]);
  });
});

describe('WEBHOOK_SIGNING_SECRET in config and signingKey in @repo/webhooks', () => {
  const whsec = (bytes: Buffer) => `whsec_${bytes.toString('base64')}`;
  const accepts = {
    config: (value: string) => {
      try {
        loadConfig(workerEnv, { ...base, WEBHOOK_SIGNING_SECRET: value });
        return true;
      } catch (error) {
        if (error instanceof ConfigError) return false;
        throw error;
      }
    },
    signing: (value: string) => {
      try {
        signingKey(value);
        return true;
      } catch (error) {
        if (error instanceof WebhookSigningError) return false;
        throw error;
      }
    },
  };

  // Config cannot import @repo/webhooks, so it states the format itself; both must agree.
  it.each([
    ['a generated secret', generateSigningSecret(), true],
    ['a 24-byte key', whsec(Buffer.alloc(24, 1)), true],
    ['a 64-byte key', whsec(Buffer.alloc(64, 2)), true],
    ['a 23-byte key', whsec(Buffer.alloc(23, 3)), false],
    ['a 65-byte key', whsec(Buffer.alloc(65, 4)), false],
    ['a plain secret', 'test-signing-secret-test-signing-secret', false],
    ['64 hex characters', Buffer.alloc(32, 5).toString('hex'), false],
    ['base64 without the prefix', Buffer.alloc(32, 6).toString('base64'), false],
    ['URL-safe base64', `whsec_${Buffer.alloc(33, 0xff).toString('base64url')}`, false],
    ['base64 without its padding', whsec(Buffer.alloc(32, 7)).replace(/=+$/, ''), false],
    ['non-canonical trailing bits', `${whsec(Buffer.alloc(32, 0)).slice(0, -2)}B=`, false],
    ['the prefix alone', 'whsec_', false],
  ])('%s: both say %s', (_case, value, valid) => {
    expect({ config: accepts.config(value), signing: accepts.signing(value) }).toEqual({
      config: valid,
      signing: valid,
    });
  });
});

import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig, workerServiceEnv } from '@repo/config';
import { createLogger } from '@repo/logger';
import { UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { webhookDeliver } from './webhook-deliver.ts';

describe('webhook.deliver handler', () => {
  it('refuses loopback destinations for good unless WEBHOOK_ALLOW_PRIVATE_NETWORKS is on', async () => {
    let requests = 0;
    const server = createServer((_req, res) => {
      requests += 1;
      res.end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://localhost:${(server.address() as AddressInfo).port}/hook`;
    const base = {
      NODE_ENV: 'test',
      DATABASE_URL: 'postgresql://unused@127.0.0.1/unused',
      REDIS_URL: 'redis://127.0.0.1:6379',
      WEBHOOK_SIGNING_SECRET: 'test-signing-secret-test-signing-secret',
    };
    const logger = await createLogger({
      service: 'test',
      version: '0',
      config: { NODE_ENV: 'test', LOG_LEVEL: 'silent' },
    });
    const context = {
      id: 'job-1',
      attempt: 1,
      maxAttempts: 3,
      signal: new AbortController().signal,
      logger,
    };

    const guarded = webhookDeliver(loadConfig(workerServiceEnv, base));
    const refusal = await guarded({ url, body: {} }, context).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(UnrecoverableError);
    expect((refusal as Error).message).toMatch(
      /^destination refused: localhost resolves to .* which is not a public address/,
    );
    expect(requests).toBe(0);

    const open = webhookDeliver(
      loadConfig(workerServiceEnv, { ...base, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' }),
    );
    await expect(open({ url, body: {} }, context)).resolves.toMatchObject({ status: 200 });
    expect(requests).toBe(1);
    server.close();
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHealth, type Health } from './health.ts';
import { checkReadiness } from './healthcheck.ts';
import { type HealthServer, startHealthServer } from './server.ts';

describe('checkReadiness (real HTTP)', () => {
  let health: Health;
  let server: HealthServer;

  beforeAll(async () => {
    health = createHealth({ service: 'worker', version: '1', timeoutMs: 100, checks: [] });
    server = await startHealthServer({
      health,
      port: 0,
      host: '127.0.0.1',
      logger: { warn: () => undefined, error: () => undefined },
    });
  });
  afterAll(() => server.close());

  it('is not ok, with the answer, while the service is not ready, and ok once it is', async () => {
    const starting = await checkReadiness({ port: server.port });
    expect(starting).toMatchObject({
      ok: false,
      reason: expect.stringContaining(`http://127.0.0.1:${server.port}/health/ready answered 503`),
    });
    health.setLifecycle('ready');
    expect(await checkReadiness({ port: server.port })).toEqual({ ok: true });
  });

  it('is not ok when nothing listens, naming the URL', async () => {
    const result = await checkReadiness({ port: 1 });
    expect(result).toMatchObject({
      ok: false,
      reason: expect.stringContaining('http://127.0.0.1:1/health/ready'),
    });
  });
});

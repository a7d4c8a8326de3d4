import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Health } from './health.ts';
import { checkReadiness } from './healthcheck.ts';
import type { HealthServer } from './server.ts';
import { startTestHealthServer } from './testing/health-server.ts';

describe('checkReadiness (real HTTP)', () => {
  let health: Health;
  let server: HealthServer;

  beforeAll(async () => {
    ({ health, server } = await startTestHealthServer('worker'));
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

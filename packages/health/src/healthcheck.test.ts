import { fileURLToPath } from 'node:url';
import { startServiceProcess } from '@repo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHealth, type Health } from './health.ts';
import { type HealthServer, startHealthServer } from './server.ts';

const entry = fileURLToPath(new URL('./healthcheck.ts', import.meta.url));

async function healthcheck(args: string[], env: Record<string, string>) {
  const check = startServiceProcess(entry, env, { args });
  const code = await check.exited;
  return { code, stderr: check.stderr() };
}

describe('healthcheck entry (real process and HTTP)', () => {
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

  it('exits 1 with the answer while the service is not ready, 0 once it is', async () => {
    const env = { HEALTH_PORT: String(server.port) };
    const starting = await healthcheck(['worker'], env);
    expect(starting.code).toBe(1);
    expect(starting.stderr).toContain(`http://127.0.0.1:${server.port}/health/ready answered 503`);
    health.setLifecycle('ready');
    expect(await healthcheck(['worker'], env)).toEqual({ code: 0, stderr: '' });
  });

  it('exits 1 when nothing listens, and explains its usage', async () => {
    expect((await healthcheck(['api'], { PORT: '1' })).code).toBe(1);
    const usage = await healthcheck(['nope'], {});
    expect(usage).toMatchObject({ code: 1 });
    expect(usage.stderr).toContain('usage: healthcheck <api|worker|beat>');
  });
});

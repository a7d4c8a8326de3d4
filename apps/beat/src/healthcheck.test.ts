import { fileURLToPath } from 'node:url';
import { createHealth, type Health, type HealthServer, startHealthServer } from '@repo/health';
import { startServiceProcess } from '@repo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The image's HEALTHCHECK (src/healthcheck.ts), as Docker runs it: a process whose exit code is
// the answer, asking the port beat reads from HEALTH_PORT.
const entry = fileURLToPath(new URL('./healthcheck.ts', import.meta.url));

async function healthcheck(env: Record<string, string>) {
  const check = startServiceProcess(entry, env);
  return { code: await check.exited, stderr: check.stderr() };
}

describe('healthcheck entry (real process and HTTP)', () => {
  let health: Health;
  let server: HealthServer;

  beforeAll(async () => {
    health = createHealth({ service: 'beat', version: '1', timeoutMs: 100, checks: [] });
    server = await startHealthServer({
      health,
      port: 0,
      host: '127.0.0.1',
      logger: { warn: () => undefined, error: () => undefined },
    });
  });
  afterAll(() => server.close());

  it('exits 1 with the answer while beat is not ready, 0 once it is', async () => {
    const env = { HEALTH_PORT: String(server.port) };
    const starting = await healthcheck(env);
    expect(starting.code).toBe(1);
    expect(starting.stderr).toContain(`http://127.0.0.1:${server.port}/health/ready answered 503`);
    health.setLifecycle('ready');
    expect(await healthcheck(env)).toEqual({ code: 0, stderr: '' });
  });

  it('exits 1 when HEALTH_PORT is not a port', async () => {
    expect((await healthcheck({ HEALTH_PORT: 'eighty' })).code).toBe(1);
  });
});

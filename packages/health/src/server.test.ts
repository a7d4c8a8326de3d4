import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createHealth } from './health.ts';
import { type HealthServer, startHealthServer } from './server.ts';

let server: HealthServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(metricsBody = 'jobs_active 0\n') {
  const health = createHealth({
    service: 'worker',
    version: '1',
    timeoutMs: 100,
    checks: [{ name: 'redis', run: async () => undefined }],
  });
  const errors: unknown[] = [];
  server = await startHealthServer({
    health,
    port: 0,
    host: '127.0.0.1',
    metrics: {
      contentType: 'text/plain; version=0.0.4',
      metrics: async () => {
        if (metricsBody === 'throw') throw new Error('collect failed');
        return metricsBody;
      },
    },
    logger: { warn: () => undefined, error: (details) => errors.push(details) },
  });
  return { health, base: `http://127.0.0.1:${server.port}`, errors };
}

describe('startHealthServer (real HTTP)', () => {
  it('serves liveness, readiness and metrics', async () => {
    const { health, base } = await start();
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
    expect((await fetch(`${base}/health/ready`)).status).toBe(503);
    health.setLifecycle('ready');
    const ready = await fetch(`${base}/health/ready?verbose=1`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ok',
      service: 'worker',
      lifecycle: 'ready',
    });
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.headers.get('content-type')).toBe('text/plain; version=0.0.4');
    expect(await metrics.text()).toBe('jobs_active 0\n');
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/health`, { method: 'POST' })).status).toBe(405);
  });

  it('answers 500 and reports the error when metrics collection fails', async () => {
    const { base, errors } = await start('throw');
    expect((await fetch(`${base}/metrics`)).status).toBe(500);
    expect(errors).toHaveLength(1);
  });

  it('closes promptly with an idle keep-alive connection open', async () => {
    const { base } = await start();
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(
        `${base}/health/live`,
        { headers: { connection: 'keep-alive' } },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end();
    });
    const closing = server?.close();
    server = undefined;
    await expect(closing).resolves.toBeUndefined();
  });
});

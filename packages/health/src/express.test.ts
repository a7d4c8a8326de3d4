import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { healthRouter } from './express.ts';
import { createHealth } from './health.ts';

function appWith(databaseUp: boolean) {
  const health = createHealth({
    service: 'api',
    version: '2.0.0',
    timeoutMs: 100,
    checks: [
      {
        name: 'database',
        run: async () => {
          if (!databaseUp) throw Object.assign(new Error('down'), { code: 'ECONNREFUSED' });
        },
      },
    ],
  });
  health.setLifecycle('ready');
  return { app: express().use(healthRouter(health)), health };
}

describe('healthRouter', () => {
  it('answers 200 with the shared shape when dependencies are up', async () => {
    const { app } = appWith(true);
    const res = await request(app).get('/health').expect(200).expect('cache-control', 'no-store');
    expect(res.body).toMatchObject({
      status: 'ok',
      service: 'api',
      version: '2.0.0',
      checks: { database: { status: 'ok' } },
    });
    await request(app).get('/health/ready').expect(200);
  });

  it('answers 503 when a dependency is down, while liveness stays 200', async () => {
    const { app } = appWith(false);
    const res = await request(app).get('/health').expect(503);
    expect(res.body.checks.database).toMatchObject({ status: 'down', error: 'ECONNREFUSED' });
    await request(app).get('/health/ready').expect(503);
    const live = await request(app).get('/health/live').expect(200);
    expect(live.body).toMatchObject({ status: 'ok', checks: {} });
  });

  it('reports not ready while shutting down', async () => {
    const { app, health } = appWith(true);
    health.setLifecycle('stopping');
    const res = await request(app).get('/health/ready').expect(503);
    expect(res.body.lifecycle).toBe('stopping');
  });

  it('answers JSON that is never cached, with its length, and HEAD with the headers alone', async () => {
    const { app } = appWith(true);
    const get = await request(app).get('/health/live').expect(200);
    expect(get.headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      'content-length': String(Buffer.byteLength(get.text)),
    });
    expect(get.headers.etag).toBeUndefined();
    expect(JSON.parse(get.text)).toMatchObject({ status: 'ok', service: 'api' });

    const head = await request(app).head('/health/live').expect(200);
    expect(head.headers['content-length']).toBe(get.headers['content-length']);
    expect(head.text ?? '').toBe('');
  });

  it('answers a flood of probes with one run of the checks', { timeout: 30_000 }, async () => {
    const probes = 100;
    let runs = 0;
    let arrived = 0;
    let allArrived: () => void = () => undefined;
    const flooded = new Promise<void>((resolve) => {
      allArrived = resolve;
    });
    const health = createHealth({
      service: 'api',
      version: '2.0.0',
      timeoutMs: 30_000,
      checks: [
        {
          name: 'database',
          run: async () => {
            runs += 1;
            // the check is still running when the last probe arrives
            await flooded;
          },
        },
      ],
    });
    health.setLifecycle('ready');
    const app = express()
      .use((_req, _res, next) => {
        arrived += 1;
        if (arrived === probes) allArrived();
        next();
      })
      .use(healthRouter(health));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as { port: number };
      const statuses = await Promise.all(
        Array.from({ length: probes }, (_, n) =>
          fetch(`http://127.0.0.1:${port}/health${n % 2 ? '/ready' : ''}`).then((r) => r.status),
        ),
      );
      expect(statuses.every((status) => status === 200)).toBe(true);
      expect(runs).toBe(1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

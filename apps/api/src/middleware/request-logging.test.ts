import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '@repo/logger';
import { captureJsonLines } from '@repo/testing';
import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { requestLogging } from './request-logging.ts';

async function appWithLogging() {
  const logs = captureJsonLines();
  const logger = await createLogger({
    service: 'api',
    version: 'test',
    config: { NODE_ENV: 'test', LOG_LEVEL: 'info', LOG_FORMAT: 'json' },
    destination: logs.destination,
  });
  const app = express();
  app.use(requestLogging(logger));
  app.get('/metrics', (req, res) => {
    req.log.warn('asked for by the metrics handler');
    res.type('text/plain').send('up 1\n');
  });
  app.get('/v1/thing', (_req, res) => {
    res.json({ thing: 1 });
  });
  app.get('/v1/broken', (_req, res) => {
    res.err = new Error('the database said no');
    res.status(500).json({});
  });
  app.get('/v1/unavailable', (_req, res) => {
    res.status(503).json({});
  });
  app.get('/v1/slow', (_req, res) => {
    setTimeout(() => res.json({ late: true }), 200);
  });
  return { app, lines: logs.lines };
}

describe('requestLogging', () => {
  it('logs a request with its id and echoes X-Request-Id', async () => {
    const { app, lines } = await appWithLogging();
    const res = await request(app).get('/v1/thing').set('X-Request-Id', 'abc-123');
    expect(res.headers['x-request-id']).toBe('abc-123');
    expect(lines).toEqual([
      expect.objectContaining({ msg: 'request completed', requestId: 'abc-123' }),
    ]);
  });

  it("carries the caller's trace id when tracing is off, and none without a valid traceparent", async () => {
    const { app, lines } = await appWithLogging();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    await request(app)
      .get('/v1/thing')
      .set('traceparent', `00-${traceId}-00f067aa0ba902b7-01`)
      .expect(200);
    await request(app).get('/v1/thing').set('traceparent', 'not-a-traceparent').expect(200);
    expect(lines[0]).toMatchObject({ msg: 'request completed', traceId });
    expect(lines[1]).not.toHaveProperty('traceId');
  });

  it('replaces an odd X-Request-Id with a fresh one', async () => {
    const { app } = await appWithLogging();
    const res = await request(app).get('/v1/thing').set('X-Request-Id', 'has space');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('does not log metrics scrapes, but their handlers still log with the request id', async () => {
    const { app, lines } = await appWithLogging();
    await request(app).get('/metrics?x=1').set('X-Request-Id', 'scrape-1').expect(200);
    expect(lines).toEqual([
      expect.objectContaining({ msg: 'asked for by the metrics handler', requestId: 'scrape-1' }),
    ]);
  });

  it('logs method, path, client, user agent, status and duration, and no response headers', async () => {
    const { app, lines } = await appWithLogging();
    await request(app).get('/v1/thing?page=2').set('User-Agent', 'probe/1.0').expect(200);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'info',
      msg: 'request completed',
      req: {
        method: 'GET',
        url: '/v1/thing?page=2',
        remoteAddress: expect.stringMatching(/127\.0\.0\.1/),
        userAgent: 'probe/1.0',
      },
      res: { statusCode: 200 },
      responseTime: expect.any(Number),
    });
    expect(Object.keys(lines[0]?.res as object)).toEqual(['statusCode']);
    expect(lines[0]).not.toHaveProperty('aborted');
  });

  it('logs a 5xx as an error with its cause, and a 503 as a warning', async () => {
    const { app, lines } = await appWithLogging();
    await request(app).get('/v1/broken').expect(500);
    await request(app).get('/v1/unavailable').expect(503);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'error',
        msg: 'request errored',
        res: { statusCode: 500 },
        err: expect.objectContaining({ message: 'the database said no' }),
      }),
      expect.objectContaining({
        level: 'warn',
        msg: 'request errored',
        res: { statusCode: 503 },
        err: expect.objectContaining({ message: 'failed with status 503' }),
      }),
    ]);
  });

  it('logs a request whose client went away before the answer as aborted', async () => {
    const { app, lines } = await appWithLogging();
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const req = httpRequest({ host: '127.0.0.1', port, path: '/v1/slow' });
      req.on('error', () => {
        // the client side of the abort: expected
      });
      req.end();
      await new Promise((resolve) => setTimeout(resolve, 50));
      req.destroy();
      await expect.poll(() => lines.length).toBe(1);
      expect(lines[0]).toMatchObject({ msg: 'request completed', aborted: true });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

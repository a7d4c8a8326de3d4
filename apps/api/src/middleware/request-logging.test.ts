import { Writable } from 'node:stream';
import { createLogger } from '@repo/logger';
import express from 'express';
import request from 'supertest';
import { describe, expect, it, vi } from 'vitest';
import { requestLogging } from './request-logging.ts';

async function appWithLogging() {
  const lines: Record<string, unknown>[] = [];
  const logger = await createLogger({
    service: 'api',
    version: 'test',
    config: { NODE_ENV: 'test', LOG_LEVEL: 'info', LOG_FORMAT: 'json' },
    destination: new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    }),
  });
  const app = express();
  app.use(requestLogging(logger));
  // pino-http makes a logger of its own when it is set up; only the calls per request count
  const child = vi.spyOn(logger, 'child');
  app.get('/health/live', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/health/ready', (req, res) => {
    req.log.warn('asked for by a probe handler');
    res.json({ status: 'ok' });
  });
  app.get('/v1/thing', (_req, res) => {
    res.json({ thing: 1 });
  });
  return { app, lines, child };
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

  it('gives probes a request id without logging them or making a child logger', async () => {
    const { app, lines, child } = await appWithLogging();
    const res = await request(app).get('/health/live?verbose').set('X-Request-Id', 'probe-1');
    expect(res.status).toBe(200);
    expect(res.headers['x-request-id']).toBe('probe-1');
    const fresh = await request(app).get('/health/live');
    expect(fresh.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines).toEqual([]);
    expect(child).not.toHaveBeenCalled();
  });

  it('makes a probe’s child logger when a handler asks for it, bound to the request id', async () => {
    const { app, lines, child } = await appWithLogging();
    await request(app).get('/health/ready').set('X-Request-Id', 'probe-2').expect(200);
    expect(child).toHaveBeenCalledTimes(1);
    expect(lines).toEqual([
      expect.objectContaining({ msg: 'asked for by a probe handler', requestId: 'probe-2' }),
    ]);
  });
});

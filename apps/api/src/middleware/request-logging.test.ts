import { Writable } from 'node:stream';
import { createLogger } from '@repo/logger';
import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
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
  app.get('/metrics', (req, res) => {
    req.log.warn('asked for by the metrics handler');
    res.type('text/plain').send('up 1\n');
  });
  app.get('/v1/thing', (_req, res) => {
    res.json({ thing: 1 });
  });
  return { app, lines };
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
});

import { Writable } from 'node:stream';
import { apiEnv, loadConfig } from '@repo/config';
import { describe, expect, it } from 'vitest';
import { createLogger } from './index.ts';

function collect() {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      raw.push(String(chunk));
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { destination, lines, raw };
}

const runtime = { NODE_ENV: 'production', LOG_LEVEL: 'info', LOG_FORMAT: 'json' } as const;

describe('createLogger', () => {
  it('writes JSON lines with service, version and a level label', async () => {
    const { destination, lines } = collect();
    const logger = await createLogger({
      service: 'api',
      version: '1.2.3',
      config: runtime,
      destination,
    });
    logger.info({ jobId: 'j1' }, 'job queued');
    logger.debug('not at info level');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      service: 'api',
      version: '1.2.3',
      level: 'info',
      jobId: 'j1',
      msg: 'job queued',
    });
    expect(typeof lines[0]?.time).toBe('string');
  });

  it('keeps secrets out when a loaded config or request headers are logged', async () => {
    const { destination, lines, raw } = collect();
    const logger = await createLogger({
      service: 'api',
      version: '1.0.0',
      config: runtime,
      destination,
    });
    const config = loadConfig(apiEnv, {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgresql://app:pg-hidden-value-4a7e@db:5432/app',
      REDIS_URL: 'redis://:redis-hidden-value-9c2b@cache:6379',
      API_KEYS: 'api-key-hidden-value-0001',
    });
    logger.info({ config }, 'starting');
    logger.info(
      { req: { headers: { authorization: 'Bearer api-key-hidden-value-0001', cookie: 'sid=1' } } },
      'request',
    );
    const text = raw.join('');
    for (const secret of [
      'pg-hidden-value-4a7e',
      'redis-hidden-value-9c2b',
      'api-key-hidden-value-0001',
      'sid=1',
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(lines[0]?.config).toMatchObject({
      DATABASE_URL: 'postgresql://app:***@db:5432/app',
      API_KEYS: '[1 redacted]',
    });
    expect(lines[1]?.req).toEqual({
      headers: { authorization: '[redacted]', cookie: '[redacted]' },
    });
  });
});

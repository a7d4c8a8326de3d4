import { Writable } from 'node:stream';
import {
  ConfigError,
  describeEnv,
  integer,
  loadConfig,
  runtimeEnv,
  runtimeSettingsFor,
  secretList,
  secretUrl,
} from '@repo/config';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createLogger, logFormat, writeConfigError } from './index.ts';

/** An app's environment in miniature: secrets of each kind, and a plain number. */
const apiEnv = z.object({
  ...runtimeEnv().shape,
  DATABASE_URL: describeEnv(secretUrl(['postgres', 'postgresql']), {
    description: 'PostgreSQL connection URL.',
    secret: true,
  }),
  REDIS_URL: describeEnv(secretUrl(['redis', 'rediss']), {
    description: 'Redis connection URL.',
    secret: true,
  }),
  API_KEYS: describeEnv(secretList({ minLength: 16 }).optional(), {
    description: 'Bearer tokens.',
    secret: true,
    requiredInProduction: true,
  }),
  PORT: describeEnv(integer({ min: 1, max: 65_535 }).prefault('8000'), { description: 'Port.' }),
});

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

describe('logFormat', () => {
  it('is LOG_FORMAT when set, pretty in development only otherwise', () => {
    expect(logFormat({ NODE_ENV: 'development', LOG_FORMAT: undefined })).toBe('pretty');
    expect(logFormat({ NODE_ENV: 'test', LOG_FORMAT: undefined })).toBe('json');
    expect(logFormat({ NODE_ENV: 'production', LOG_FORMAT: undefined })).toBe('json');
    expect(logFormat({ NODE_ENV: 'development', LOG_FORMAT: 'json' })).toBe('json');
    expect(logFormat({ NODE_ENV: 'production', LOG_FORMAT: 'pretty' })).toBe('pretty');
  });
});

describe('writeConfigError', () => {
  const SECRET = 'redis-hidden-value-5d1f';
  function brokenConfig(env: Record<string, string>): ConfigError {
    try {
      loadConfig(
        apiEnv,
        { REDIS_URL: `http://:${SECRET}@cache`, PORT: 'eighty', ...env },
        { service: 'api' },
      );
    } catch (error) {
      if (error instanceof ConfigError) return error;
      throw error;
    }
    throw new Error('expected a ConfigError');
  }
  function written(env: Record<string, string>): string[] {
    const raw: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        raw.push(String(chunk));
        done();
      },
    });
    writeConfigError(brokenConfig(env), {
      service: 'api',
      version: '1.0.0',
      runtime: runtimeSettingsFor(env),
      destination,
    });
    expect(raw.join('')).not.toContain(SECRET);
    return raw.join('').split('\n').filter(Boolean);
  }

  it.each([
    ['production', { NODE_ENV: 'production' }],
    ['NODE_ENV unset', {}],
    ['an invalid NODE_ENV', { NODE_ENV: 'prod' }],
    ['LOG_FORMAT=json in development', { NODE_ENV: 'development', LOG_FORMAT: 'json' }],
    ['LOG_LEVEL=silent', { NODE_ENV: 'production', LOG_LEVEL: 'silent' }],
  ])('is one fatal JSON line with the problems as a field with %s', (_case, env) => {
    const lines = written(env);
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0] ?? '');
    expect(line).toMatchObject({
      level: 'fatal',
      service: 'api',
      version: '1.0.0',
      msg: expect.stringMatching(/^Invalid environment for api \(\d problems\): /),
      problems: expect.arrayContaining([
        { variable: 'PORT', message: 'expected a whole number between 1 and 65535' },
        { variable: 'REDIS_URL', message: 'expected a URL starting with redis:// or rediss://' },
      ]),
    });
    expect(typeof line.time).toBe('string');
  });

  it('is the readable multi-line text in development', () => {
    const lines = written({ NODE_ENV: 'development' });
    expect(lines[0]).toBe('Invalid environment for api (3 problems):');
    expect(lines).toContain('  - PORT: expected a whole number between 1 and 65535');
  });
});

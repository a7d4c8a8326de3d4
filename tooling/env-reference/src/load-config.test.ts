import { inspect } from 'node:util';
import { apiEnv } from '@repo/api/env';
import { beatEnv } from '@repo/beat/env';
import { ConfigError, loadConfig, Secret } from '@repo/config';
import { migrateEnv } from '@repo/db/env';
import { workerEnv } from '@repo/worker/env';
import { describe, expect, it } from 'vitest';

const DB_PASSWORD = 'db-pass-7f3a9c';
const REDIS_PASSWORD = 'redis-pass-1b2c3d';
const API_KEY_A = 'api-key-aaaaaaaaaaaaaaaaaaaa';
const API_KEY_B = 'api-key-bbbbbbbbbbbbbbbbbbbb';
const METRICS_TOKEN = 'metrics-token-0123456789';
const ADMIN_PASSWORD = 'admin-pw-7d1e9c4b2a';
const SIGNING_SECRET = 'whsec_R82vuZnCgHfXjf50PuCmizpPwCnjonipCKeoXbnOqwA=';
const SECRETS_KEY = 'q2Gk0nW7c1rYb8uE3fJt5zLx9pAi4sVd6mQo1hNe7Rw=';
const SECRETS = [
  SECRETS_KEY,
  DB_PASSWORD,
  REDIS_PASSWORD,
  API_KEY_A,
  API_KEY_B,
  METRICS_TOKEN,
  ADMIN_PASSWORD,
  SIGNING_SECRET,
];

const validApiEnv = {
  NODE_ENV: 'production',
  DATABASE_URL: `postgresql://app:${DB_PASSWORD}@db.internal:5432/app?sslmode=require`,
  REDIS_URL: `redis://default:${REDIS_PASSWORD}@redis.internal:6379`,
  API_KEYS: `${API_KEY_A}, ${API_KEY_B}`,
  METRICS_TOKEN,
  ADMIN_USERNAME: 'admin',
  ADMIN_PASSWORD,
  WEBHOOK_SECRETS_KEY: SECRETS_KEY,
};

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

function problemsOf(error: ConfigError): Record<string, string> {
  return Object.fromEntries(error.problems.map((p) => [p.variable, p.message]));
}

function expectNoSecret(text: string) {
  for (const secret of SECRETS) expect(text).not.toContain(secret);
}

describe('loadConfig', () => {
  it('returns typed values with defaults applied', () => {
    const config = loadConfig(apiEnv, validApiEnv);
    expect(config.NODE_ENV).toBe('production');
    expect(config.PORT).toBe(8000);
    expect(config.DATABASE_POOL_SIZE).toBe(10);
    expect(config.SHUTDOWN_TIMEOUT).toBe(25_000);
    expect(config.MIGRATE_ON_START).toBe(false);
    expect(config.REDIS_FAMILY).toBe(0);
    expect(config.TRUST_PROXY).toBe(false);
    expect(config.DATABASE_URL.reveal()).toBe(validApiEnv.DATABASE_URL);
    expect(config.API_KEYS?.reveal()).toEqual([API_KEY_A, API_KEY_B]);
  });

  it('lists every missing required variable in one error, by name', () => {
    const error = configError(() =>
      loadConfig(apiEnv, { NODE_ENV: 'production' }, { service: 'api' }),
    );
    expect(Object.keys(problemsOf(error)).sort()).toEqual([
      'API_KEYS',
      'DATABASE_URL',
      'REDIS_URL',
      'WEBHOOK_SECRETS_KEY',
    ]);
    expect(error.message).toMatch(/^Invalid environment for api \(4 problems\):\n/);
    expect(error.message).toContain(
      '  - DATABASE_URL: is required but not set — PostgreSQL connection URL.',
    );
    expect(error.message).toContain('  - API_KEYS: is required when NODE_ENV=production');
  });

  it('does not require API keys in development or test', () => {
    const { API_KEYS: _, ...rest } = validApiEnv;
    for (const NODE_ENV of ['development', 'test']) {
      expect(loadConfig(apiEnv, { ...rest, NODE_ENV }).API_KEYS).toBeUndefined();
    }
  });

  it('treats a missing NODE_ENV as production, and says so in the error', () => {
    const { NODE_ENV: _, ...withoutNodeEnv } = validApiEnv;
    expect(loadConfig(apiEnv, withoutNodeEnv).NODE_ENV).toBe('production');
    expect(loadConfig(apiEnv, { ...withoutNodeEnv, NODE_ENV: ' ' }).NODE_ENV).toBe('production');

    const { API_KEYS: __, ...withoutKeys } = withoutNodeEnv;
    const error = configError(() => loadConfig(apiEnv, withoutKeys, { service: 'api' }));
    expect(problemsOf(error)).toEqual({ API_KEYS: 'is required when NODE_ENV=production' });
    expect(error.note).toMatch(/^NODE_ENV is not set, which means production: no \.env file/);
    expect(error.message.split('\n').at(-1)).toBe(error.note);
    // an explicit NODE_ENV needs no explanation
    expect(
      configError(() => loadConfig(apiEnv, { ...withoutKeys, NODE_ENV: 'production' })).note,
    ).toBe(undefined);
  });

  it('has a one-line summary of the same problems for a JSON log line', () => {
    const error = configError(() =>
      loadConfig(apiEnv, { NODE_ENV: 'production', PORT: 'eighty' }, { service: 'api' }),
    );
    expect(error.summary).not.toContain('\n');
    expect(error.summary).toMatch(/^Invalid environment for api \(5 problems\): /);
    for (const { variable, message } of error.problems) {
      expect(error.summary).toContain(`${variable}: ${message}`);
    }
  });

  it.each([
    ['worker', workerEnv, ['DATABASE_URL', 'REDIS_URL', 'WEBHOOK_SECRETS_KEY']],
    ['beat', beatEnv, ['REDIS_URL']],
    ['migrate', migrateEnv, ['DATABASE_URL']],
  ] as const)('names the required variables of %s', (_name, schema, expected) => {
    const error = configError(() => loadConfig(schema, {}));
    expect(Object.keys(problemsOf(error)).sort()).toEqual([...expected].sort());
  });

  it('reports each wrong type with its variable and the reason, all at once', () => {
    const error = configError(() =>
      loadConfig(apiEnv, {
        ...validApiEnv,
        PORT: 'eighty',
        DATABASE_POOL_SIZE: '1.5',
        SHUTDOWN_TIMEOUT: '30',
        MIGRATE_ON_START: 'maybe',
        LOG_LEVEL: 'verbose',
        REDIS_FAMILY: '5',
        BODY_LIMIT: 'huge',
        TRUST_PROXY: 'proxy one; proxy two',
      }),
    );
    const problems = problemsOf(error);
    expect(problems).toEqual({
      PORT: 'expected a whole number between 1 and 65535',
      DATABASE_POOL_SIZE: 'expected a whole number between 1 and 200',
      SHUTDOWN_TIMEOUT: 'expected a duration such as 500ms, 30s, 5m, 2h or 7d',
      MIGRATE_ON_START: 'expected one of true, 1, yes, on, false, 0, no, off',
      LOG_LEVEL: expect.stringContaining('expected one of'),
      REDIS_FAMILY: expect.stringContaining('expected one of'),
      BODY_LIMIT: 'expected a size such as 100kb or 1mb',
      TRUST_PROXY:
        'expected false, true, a number of proxy hops, or comma-separated addresses/subnets',
    });
    expect(error.message.split('\n')).toHaveLength(1 + Object.keys(problems).length);
  });

  it('rejects out-of-range numbers and durations', () => {
    const problems = problemsOf(
      configError(() =>
        loadConfig(apiEnv, {
          ...validApiEnv,
          PORT: '70000',
          SHUTDOWN_TIMEOUT: '10ms',
          DATABASE_CONNECT_TIMEOUT: '3m',
        }),
      ),
    );
    expect(problems).toEqual({
      PORT: 'expected a whole number between 1 and 65535',
      SHUTDOWN_TIMEOUT: 'must be at least 1s',
      DATABASE_CONNECT_TIMEOUT: 'must be at most 2m',
    });
  });

  it('rejects URLs with the wrong scheme or no host, without echoing them', () => {
    const error = configError(() =>
      loadConfig(apiEnv, {
        ...validApiEnv,
        DATABASE_URL: `mysql://app:${DB_PASSWORD}@db/app`,
        REDIS_URL: `http://default:${REDIS_PASSWORD}@cache`,
      }),
    );
    expect(problemsOf(error)).toEqual({
      DATABASE_URL: 'expected a URL starting with postgres:// or postgresql://',
      REDIS_URL: 'expected a URL starting with redis:// or rediss://',
    });
    expectNoSecret(error.message);
    expectNoSecret(inspect(error));
    expectNoSecret(JSON.stringify(error.problems));
  });

  it('never echoes a secret that fails validation', () => {
    const error = configError(() =>
      loadConfig(apiEnv, {
        ...validApiEnv,
        DATABASE_URL: `not a url ${DB_PASSWORD}`,
        API_KEYS: `${API_KEY_A},short`,
        METRICS_TOKEN: 'tiny',
        ADMIN_PASSWORD: 'short',
      }),
    );
    expect(problemsOf(error)).toEqual({
      DATABASE_URL: 'expected a URL starting with postgres:// or postgresql://',
      API_KEYS: 'each value must be at least 16 characters long',
      METRICS_TOKEN: 'must be at least 16 characters long',
      ADMIN_PASSWORD: 'must be at least 12 characters long',
    });
    expectNoSecret(error.message);
    expect(error.message).not.toContain('short');
    expect(error.message).not.toContain('tiny');
  });

  it('requires the dashboard credentials as a pair', () => {
    const { ADMIN_PASSWORD: _, ...withoutPassword } = validApiEnv;
    expect(problemsOf(configError(() => loadConfig(apiEnv, withoutPassword)))).toEqual({
      ADMIN_PASSWORD: expect.stringContaining('set both'),
    });
  });

  it('coerces booleans, durations, lists and proxy settings', () => {
    const config = loadConfig(apiEnv, {
      ...validApiEnv,
      MIGRATE_ON_START: 'YES',
      SHUTDOWN_TIMEOUT: '1.5m',
      REQUEST_TIMEOUT: '2500ms',
      TRUST_PROXY: '10.0.0.0/8, 127.0.0.1',
      API_KEYS: ` ${API_KEY_A} ,,${API_KEY_B},`,
    });
    expect(config.MIGRATE_ON_START).toBe(true);
    expect(config.SHUTDOWN_TIMEOUT).toBe(90_000);
    expect(config.REQUEST_TIMEOUT).toBe(2_500);
    expect(config.TRUST_PROXY).toEqual(['10.0.0.0/8', '127.0.0.1']);
    expect(config.API_KEYS?.reveal()).toEqual([API_KEY_A, API_KEY_B]);
    expect(loadConfig(apiEnv, { ...validApiEnv, TRUST_PROXY: '2' }).TRUST_PROXY).toBe(2);
    expect(loadConfig(apiEnv, { ...validApiEnv, MIGRATE_ON_START: '0' }).MIGRATE_ON_START).toBe(
      false,
    );
  });

  it('treats empty values as unset', () => {
    const config = loadConfig(apiEnv, { ...validApiEnv, PORT: '', LOG_LEVEL: '  ' });
    expect(config.PORT).toBe(8000);
    expect(config.LOG_LEVEL).toBe('info');
    expect(
      problemsOf(configError(() => loadConfig(apiEnv, { ...validApiEnv, DATABASE_URL: '' }))),
    ).toHaveProperty('DATABASE_URL');
  });

  it('returns a deeply frozen object', () => {
    const config = loadConfig(apiEnv, { ...validApiEnv, TRUST_PROXY: '10.0.0.1,10.0.0.2' });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.TRUST_PROXY)).toBe(true);
    expect(Object.isFrozen(config.API_KEYS?.reveal())).toBe(true);
    expect(() => {
      (config as { PORT: number }).PORT = 1;
    }).toThrow(TypeError);
  });

  it('redacts every secret when the config is stringified, inspected or interpolated', () => {
    const config = loadConfig(workerEnv, {
      ...validApiEnv,
      WEBHOOK_SIGNING_SECRET: SIGNING_SECRET,
    });
    const api = loadConfig(apiEnv, validApiEnv);
    for (const text of [
      JSON.stringify(config),
      JSON.stringify(api),
      inspect(config, { depth: 10 }),
      inspect(api, { depth: 10 }),
      String(api.DATABASE_URL),
      `${api.REDIS_URL} ${api.API_KEYS} ${api.METRICS_TOKEN} ${api.ADMIN_PASSWORD}`,
      `${config.WEBHOOK_SIGNING_SECRET} ${config.WEBHOOK_SECRETS_KEY}`,
    ]) {
      expectNoSecret(text);
    }
    // the non-secret parts of a URL stay readable for debugging
    expect(JSON.parse(JSON.stringify(api)).DATABASE_URL).toBe(
      'postgresql://app:***@db.internal:5432/app?***',
    );
    expect(JSON.parse(JSON.stringify(api)).API_KEYS).toBe('[2 redacted]');
    expect(api.DATABASE_URL).toBeInstanceOf(Secret);
  });
});

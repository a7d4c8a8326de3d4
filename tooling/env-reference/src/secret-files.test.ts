import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiEnv } from '@repo/api/env';
import { ConfigError, loadConfig } from '@repo/config';
import { workerEnv } from '@repo/worker/env';
import { afterAll, describe, expect, it } from 'vitest';
import { describeServiceEnv } from './services.ts';

const dir = mkdtempSync(join(tmpdir(), 'secret-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function secretFile(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const API_KEY = 'a3f1c9e7b5d2468f0a1b2c3d4e5f6071';
const DB_PASSWORD = '9c8b7a6f5e4d3c2b1a09';
const env = {
  NODE_ENV: 'production',
  DATABASE_URL: `postgresql://app:${DB_PASSWORD}@db.internal:5432/app`,
  REDIS_URL: 'redis://cache.internal:6379',
  API_KEYS: API_KEY,
  WEBHOOK_SECRETS_KEY: 'Yk3p9WcN2rT8vQ5xZ1bL7mF4hJ6sD0aE3uG9iK2oP5c=',
};

function problemsOf(fn: () => unknown): Record<string, string> {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return Object.fromEntries(error.problems.map((p) => [p.variable, p.message]));
  }
  throw new Error('expected a ConfigError');
}

describe('<NAME>_FILE for secrets', () => {
  it('reads each secret from the file named by <NAME>_FILE, without the trailing line break', () => {
    const { API_KEYS: _, DATABASE_URL: __, ...rest } = env;
    const config = loadConfig(apiEnv, {
      ...rest,
      API_KEYS_FILE: secretFile('api_keys', `${API_KEY},b4e2d0f8c6a4e2d0f8c6a4e2\n`),
      DATABASE_URL_FILE: secretFile('database_url', `${env.DATABASE_URL}\r\n`),
      ADMIN_USERNAME: 'admin',
      ADMIN_PASSWORD_FILE: secretFile('admin_password', ' 7e6d5c4b3a29 18f0 '),
    });
    expect(config.API_KEYS?.reveal()).toEqual([API_KEY, 'b4e2d0f8c6a4e2d0f8c6a4e2']);
    expect(config.DATABASE_URL.reveal()).toBe(env.DATABASE_URL);
    // only the line break goes: spaces may belong to a password
    expect(config.ADMIN_PASSWORD?.reveal()).toBe(' 7e6d5c4b3a29 18f0 ');
  });

  it('is offered for exactly the secret variables, and documented with them', () => {
    for (const variable of describeServiceEnv('worker')) {
      expect(variable.file).toBe(variable.secret ? `${variable.name}_FILE` : undefined);
    }
    const unrelated = secretFile('port', '9999\n');
    expect(loadConfig(apiEnv, { ...env, PORT_FILE: unrelated }).PORT).toBe(8000);
  });

  it('refuses a secret set both directly and through a file, naming both', () => {
    const problems = problemsOf(() =>
      loadConfig(apiEnv, { ...env, API_KEYS_FILE: secretFile('both', `${API_KEY}\n`) }),
    );
    expect(problems).toEqual({
      API_KEYS: 'is set both directly and through API_KEYS_FILE; set only one of them',
    });
  });

  it('names the variable, the path and the reason when the file cannot be read or is empty', () => {
    const { API_KEYS: _, REDIS_URL: __, DATABASE_URL: ___, ...rest } = env;
    const unreadable = secretFile('unreadable', 'x'.repeat(40));
    chmodSync(unreadable, 0o000);
    const problems = problemsOf(() =>
      loadConfig(workerEnv, {
        ...rest,
        REDIS_URL_FILE: join(dir, 'missing'),
        WEBHOOK_SIGNING_SECRET_FILE: dir,
        DATABASE_URL_FILE: secretFile('empty', '\n'),
      }),
    );
    expect(problems).toEqual({
      REDIS_URL_FILE: `cannot read ${join(dir, 'missing')}: no such file`,
      WEBHOOK_SIGNING_SECRET_FILE: `cannot read ${dir}: it is a directory`,
      DATABASE_URL_FILE: `${join(dir, 'empty')} is empty`,
    });
    // root reads anything, so the permission case only shows as another user
    if (process.getuid?.() !== 0) {
      expect(
        problemsOf(() =>
          loadConfig(workerEnv, { ...env, WEBHOOK_SIGNING_SECRET_FILE: unreadable }),
        ),
      ).toEqual({ WEBHOOK_SIGNING_SECRET_FILE: `cannot read ${unreadable}: permission denied` });
    }
  });

  it('validates a value from a file like any other, says where it came from, and never prints it', () => {
    const path = secretFile('short_token', 'tiny-token\n');
    const error = (() => {
      try {
        loadConfig(apiEnv, { ...env, METRICS_TOKEN_FILE: path });
      } catch (caught) {
        return caught as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(error.problems).toEqual([
      {
        variable: 'METRICS_TOKEN',
        message: `must be at least 16 characters long (read from METRICS_TOKEN_FILE=${path})`,
      },
    ]);
    expect(error.message).not.toContain('tiny-token');
  });

  it('refuses a published placeholder read from a file in production, and accepts it in development', () => {
    const path = secretFile('dev_key', 'dev-api-key-change-me-0000\n');
    const { API_KEYS: _, ...rest } = env;
    expect(problemsOf(() => loadConfig(apiEnv, { ...rest, API_KEYS_FILE: path }))).toEqual({
      API_KEYS: expect.stringMatching(/^is the placeholder published in \.env\.development; /),
    });
    expect(
      loadConfig(apiEnv, {
        ...rest,
        NODE_ENV: 'development',
        API_KEYS_FILE: path,
      }).API_KEYS?.reveal(),
    ).toEqual(['dev-api-key-change-me-0000']);
  });
});

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '@repo/config';
import { describeServiceEnv, serviceEnvs } from '@repo/env-reference';
import { afterAll, describe, expect, it } from 'vitest';
import { composeSecretFiles } from './compose.ts';
import { repoPath } from './repo.ts';

const SCRIPT = repoPath('infra/generate-secrets.sh');

function generate(dir: string) {
  const result = spawnSync(SCRIPT, [dir], { encoding: 'utf8', env: { PATH: process.env.PATH } });
  expect(result.status, result.stderr).toBe(0);
  return result;
}

describe('infra/generate-secrets.sh', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'generate-secrets-'));
  const dir = path.join(root, 'secrets');
  const read = (name: string) => readFileSync(path.join(dir, name), 'utf8').trim();
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('writes every secret file infra/compose.yaml mounts, in a directory only its owner enters', () => {
    const result = generate(dir);
    expect(readdirSync(dir).sort()).toEqual([...composeSecretFiles()].sort());
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    // nothing secret on the terminal
    for (const name of readdirSync(dir)) expect(result.stderr).not.toContain(read(name));
  });

  it('writes values the apps accept in production (placeholders and published values refused)', () => {
    const env = {
      NODE_ENV: 'production',
      DATABASE_URL: read('database_url'),
      REDIS_URL: read('redis_url'),
      API_KEYS: read('api_keys'),
      METRICS_TOKEN: read('metrics_token'),
      WEBHOOK_SIGNING_SECRET: read('webhook_signing_secret'),
      WEBHOOK_SECRETS_KEY: read('webhook_secrets_key'),
      DATABASE_APP_ROLE: 'jobstack_app',
      DATABASE_APP_PASSWORD: read('app_database_password'),
    };
    for (const service of ['api', 'worker', 'beat', 'migrate'] as const) {
      const names = new Set(describeServiceEnv(service).map((v) => v.name));
      const own = Object.fromEntries(Object.entries(env).filter(([key]) => names.has(key)));
      expect(() => loadConfig(serviceEnvs[service], own, { service }), service).not.toThrow();
    }
  });

  it('derives the URLs and the Redis ACL from the passwords', () => {
    expect(read('migrate_database_url')).toBe(
      `postgresql://jobstack:${read('postgres_password')}@postgres:5432/jobstack`,
    );
    expect(read('database_url')).toBe(
      `postgresql://jobstack_app:${read('app_database_password')}@postgres:5432/jobstack`,
    );
    expect(read('redis_url')).toBe(`redis://default:${read('redis_password')}@redis:6379`);
    const sha = createHash('sha256').update(read('redis_password')).digest('hex');
    expect(read('redis_users_acl')).toBe(`user default on #${sha} ~* &* +@all`);
  });

  it('never overwrites a file that exists: a re-run adds only what is missing', () => {
    const before = Object.fromEntries(readdirSync(dir).map((name) => [name, read(name)]));
    rmSync(path.join(dir, 'metrics_token'));
    writeFileSync(path.join(dir, 'api_keys'), 'key-kept-by-the-operator-0123456789\n');
    generate(dir);
    expect(read('api_keys')).toBe('key-kept-by-the-operator-0123456789');
    expect(read('metrics_token')).not.toBe(before.metrics_token);
    for (const name of readdirSync(dir).filter((n) => !['api_keys', 'metrics_token'].includes(n))) {
      expect(read(name), name).toBe(before[name]);
    }
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { withEnvFiles } from './env-files.ts';

function workspaceWith(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'env-files-'));
  writeFileSync(join(root, 'pnpm-workspace.yaml'), 'packages: []\n');
  for (const [name, content] of Object.entries(files)) writeFileSync(join(root, name), content);
  return root;
}

describe('withEnvFiles', () => {
  const root = workspaceWith({
    '.env.development': 'PORT=8000\nLOG_LEVEL=debug\nREDIS_URL=redis://from-development-file\n',
    '.env': 'LOG_LEVEL=warn\n',
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('reads .env.development then .env from the workspace root; the process environment wins', () => {
    const env = withEnvFiles({ NODE_ENV: 'development', REDIS_URL: 'redis://from-process' }, root);
    expect(env).toMatchObject({
      PORT: '8000',
      LOG_LEVEL: 'warn',
      REDIS_URL: 'redis://from-process',
    });
  });

  it('finds the workspace root from a nested directory', () => {
    const nested = join(root, 'apps');
    expect(withEnvFiles({ NODE_ENV: 'test' }, nested).PORT).toBe('8000');
  });

  it.each([
    ['production', 'production'],
    ['missing', undefined],
    ['empty', ''],
    ['anything else', 'staging'],
  ])('never reads files when NODE_ENV is %s', (_case, NODE_ENV) => {
    const env = { NODE_ENV, REDIS_URL: 'redis://from-process' };
    expect(withEnvFiles(env, root)).toBe(env);
  });

  it('lets <NAME>_FILE from the environment replace <NAME> from a file, and the other way round', () => {
    const secrets = workspaceWith({
      '.env.development': 'API_KEYS=from-file-0123456789\nADMIN_PASSWORD_FILE=/from/file\n',
    });
    try {
      const env = withEnvFiles(
        { NODE_ENV: 'development', API_KEYS_FILE: '/run/secrets/api_keys', ADMIN_PASSWORD: 'pw' },
        secrets,
      );
      expect(env).toMatchObject({ API_KEYS_FILE: '/run/secrets/api_keys', ADMIN_PASSWORD: 'pw' });
      expect(env).not.toHaveProperty('API_KEYS');
      expect(env).not.toHaveProperty('ADMIN_PASSWORD_FILE');
    } finally {
      rmSync(secrets, { recursive: true, force: true });
    }
  });
});

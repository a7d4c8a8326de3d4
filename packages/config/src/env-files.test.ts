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
    expect(withEnvFiles({}, nested).PORT).toBe('8000');
  });

  it('never reads files in production', () => {
    const env = { NODE_ENV: 'production' };
    expect(withEnvFiles(env, root)).toBe(env);
  });
});

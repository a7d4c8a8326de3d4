import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';
import { publishedSecretValues } from '@repo/config';
import { describe, expect, it } from 'vitest';
import {
  collectPublishedSecretValues,
  renderPublishedSecretValues,
  secretVariableNames,
} from './published-secret-sources.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('published secret values', () => {
  it('packages/config/src/published-secret-values.ts is what the repository files give (run `pnpm placeholders`)', () => {
    const committed = readFileSync(
      new URL('../../../packages/config/src/published-secret-values.ts', import.meta.url),
      'utf8',
    );
    expect(committed).toBe(renderPublishedSecretValues(collectPublishedSecretValues(root)));
  });

  it('holds every secret value of .env.development, read with a parser of its own', () => {
    const secrets = new Set(secretVariableNames());
    const development = parseEnv(readFileSync(join(root, '.env.development'), 'utf8'));
    // URLs without a password hold no secret; lists are refused entry by entry
    const expected = Object.entries(development).flatMap(([name, value]) =>
      value === undefined || !secrets.has(name) || /^[a-z]+:\/\//.test(value)
        ? []
        : value.split(',').map((entry) => entry.trim()),
    );
    expect(expected.length).toBeGreaterThan(0);
    const published = publishedSecretValues.map((v) => v.value);
    for (const value of expected) expect(published).toContain(value);
  });

  it('collects env-style lines, commented or in code, bearer tokens and URL passwords; skips references', () => {
    const workspace = mkdtempSync(join(tmpdir(), 'published-secrets-'));
    try {
      mkdirSync(join(workspace, 'docs'));
      mkdirSync(join(workspace, 'infra'));
      writeFileSync(
        join(workspace, '.env.development'),
        'API_KEYS=dev-key-one,dev-key-two\nPORT=8000\nADMIN_PASSWORD="quoted value"\n',
      );
      writeFileSync(
        join(workspace, 'infra/.env.example'),
        '# METRICS_TOKEN=commented-token\nWEBHOOK_SIGNING_SECRET=\n# Bearer tokens the api accepts\n',
      );
      writeFileSync(
        join(workspace, 'README.md'),
        [
          "curl -H 'Authorization: Bearer readme-token-123' localhost:8000/v1/jobs",
          'Set `DATABASE_URL=postgresql://app:hunter22@db/app` and `REDIS_URL=redis://cache:6379`.',
          // biome-ignore lint/suspicious/noTemplateCurlyInString: a Railway reference, as docs/deploy.md writes it
          'Then `API_KEYS=${{shared.API_KEYS}}` or `API_KEYS=<your keys>` or Bearer <key> or Bearer …',
          'METRICS_TOKEN_FILE=/run/secrets/metrics_token',
        ].join('\n'),
      );
      writeFileSync(join(workspace, 'docs/deploy.md'), 'ADMIN_PASSWORD=dev-key-one\n');
      expect(collectPublishedSecretValues(workspace)).toEqual([
        { value: 'dev-key-one', source: '.env.development' },
        { value: 'dev-key-two', source: '.env.development' },
        { value: 'quoted value', source: '.env.development' },
        { value: 'commented-token', source: 'infra/.env.example' },
        { value: 'hunter22', source: 'README.md' },
        { value: 'readme-token-123', source: 'README.md' },
      ]);
    } finally {
      rmSync(workspace, { recursive: true, force: true });
    }
  });

  it('renders as Biome formats it: long entries broken over lines, quotes kept simple', () => {
    const text = renderPublishedSecretValues([
      { value: 'short', source: 'README.md' },
      { value: `it's-${'x'.repeat(90)}`, source: 'docs/deploy.md' },
    ]);
    expect(text).toContain("  { value: 'short', source: 'README.md' },\n");
    expect(text).toContain(
      `  {\n    value: "it's-${'x'.repeat(90)}",\n    source: 'docs/deploy.md',\n  },\n`,
    );
  });
});

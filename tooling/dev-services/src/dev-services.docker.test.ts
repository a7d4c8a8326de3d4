import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { prepareServices } from './dev-services.ts';
import { dockerEngineAnswers } from './docker-services.ts';
import { postgresAnswers, redisAnswers } from './probe.ts';

// `pnpm test:docker`: with a Docker engine, what is missing comes from infra/compose.dev.yaml, as
// a compose project of the checkout's own. The defaults point at a closed port so that nothing
// answers there.

const scratch = mkdtempSync(join(tmpdir(), 'dev-services-docker-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('prepareServices with a Docker engine (real compose project)', () => {
  it('has a Docker engine with compose to start the services with', () => {
    expect(dockerEngineAnswers()).toBe(true);
  });

  it('pnpm test: starts infra/compose.dev.yaml, uses it, and removes it with its volumes', async () => {
    const root = mkdtempSync(join(scratch, 'checkout-'));
    writeFileSync(join(root, 'pnpm-workspace.yaml'), '');
    const lines: string[] = [];
    const services = await prepareServices('test', {
      root,
      log: (line) => lines.push(line),
      env: {},
      defaults: {
        postgres: 'postgresql://postgres@127.0.0.1:1/postgres',
        redis: 'redis://127.0.0.1:1',
      },
    });
    try {
      expect(lines[0]).toBe(
        'no PostgreSQL at 127.0.0.1:1 and no Redis at 127.0.0.1:1: starting them with Docker (infra/compose.dev.yaml)…',
      );
      expect(lines.filter((line) => line.includes('(compose project jobstack-test-'))).toHaveLength(
        2,
      );
      expect(await postgresAnswers(services.env.TEST_DATABASE_URL ?? '')).toBe(true);
      expect(await redisAnswers(services.env.TEST_REDIS_URL ?? '')).toBe(true);
    } finally {
      await services.stop();
    }
    expect(await postgresAnswers(services.env.TEST_DATABASE_URL ?? '')).toBe(false);
    expect(lines.at(-1)).toMatch(/^stopped the compose project jobstack-test-/);
  });
});

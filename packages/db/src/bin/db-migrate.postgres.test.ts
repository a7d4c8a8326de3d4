import { type AddressInfo, createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '@repo/config';
import { createTestDatabase, startServiceProcess, type TestDatabase } from '@repo/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { migrateEnv } from '../env.ts';
import { DEFAULT_MIGRATIONS_DIR, readMigrationFiles } from '../migrate/migration-files.ts';
import { queryRows } from '../testing/migrations-fixture.ts';

const BIN = fileURLToPath(new URL('./db-migrate.ts', import.meta.url));

interface Run {
  code: number | null;
  stderr: string;
  logs: Record<string, unknown>[];
}

/** The bin as an image runs it (with type stripping in place of the build), with exactly `env`. */
async function runBin(env: Record<string, string>): Promise<Run> {
  const bin = startServiceProcess(BIN, env);
  const code = await bin.exited;
  return {
    code,
    stderr: bin.stderr(),
    logs: bin.logs(),
  };
}

describe('db-migrate bin (real PostgreSQL)', () => {
  const databases: TestDatabase[] = [];
  afterAll(async () => {
    await Promise.all(databases.map((database) => database.drop()));
  });

  it('five processes started at once apply each migration exactly once and all exit 0', async () => {
    const db = await createTestDatabase('bin_five');
    databases.push(db);
    const shipped = (await readMigrationFiles(DEFAULT_MIGRATIONS_DIR)).map((file) => file.name);

    const runs = await Promise.all(
      Array.from({ length: 5 }, () => runBin({ DATABASE_URL: db.url })),
    );
    for (const run of runs) expect(run.code, run.stderr).toBe(0);

    // across all five, each migration was applied by exactly one process
    const appliedLines = runs.flatMap((run) =>
      run.logs.filter((line) => line.msg === 'applied migration').map((line) => line.migration),
    );
    expect(appliedLines.sort()).toEqual([...shipped].sort());
    const rows = await queryRows<{ migration_name: string; n: number }>(
      db.url,
      `SELECT migration_name, count(*)::int AS n FROM _prisma_migrations
        WHERE finished_at IS NOT NULL GROUP BY 1 ORDER BY 1`,
    );
    expect(rows).toEqual(shipped.map((name) => ({ migration_name: name, n: 1 })));
    expect(await queryRows(db.url, 'SELECT count(*)::int AS n FROM _prisma_migrations')).toEqual([
      { n: shipped.length },
    ]);
  });

  it('a malformed DATABASE_URL is a ConfigError naming DATABASE_URL, and the bin prints it and exits 1', async () => {
    for (const url of ['not a url', 'mysql://user@host/db', 'postgresql://']) {
      const error = (() => {
        try {
          loadConfig(migrateEnv, { DATABASE_URL: url }, { service: 'migrate' });
        } catch (e) {
          return e;
        }
      })();
      expect(error, url).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.map((p) => p.variable)).toEqual(['DATABASE_URL']);

      const run = await runBin({ DATABASE_URL: url });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('Invalid environment for migrate');
      expect(run.stderr).toContain('DATABASE_URL');
    }
  });

  it('exits 1 with a clear message, after the connect timeout, when PostgreSQL never answers', async () => {
    // a server that accepts connections and never answers: without the connect timeout the bin
    // would wait forever and this test would time out
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const run = await runBin({
      DATABASE_URL: `postgresql://postgres:secret-password@127.0.0.1:${port}/app`,
      DATABASE_CONNECT_TIMEOUT: '500ms',
    }).finally(() => {
      for (const socket of sockets) socket.destroy();
      silent.close();
    });
    expect(run.code).toBe(1);
    const failure = run.logs.find((line) => line.level === 'error');
    expect(failure?.msg).toMatch(
      new RegExp(`migrate failed: Cannot connect to PostgreSQL at 127\\.0\\.0\\.1:${port}/app`),
    );
    expect(JSON.stringify(run.logs)).not.toContain('secret-password');
  });
});

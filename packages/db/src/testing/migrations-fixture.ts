import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { DEFAULT_MIGRATIONS_DIR } from '../migrate/migration-files.ts';

export interface MigrationsFixture {
  /** A copy of the shipped migrations (plus what `add` wrote), for tests that edit them. */
  dir: string;
  /** Writes prisma/migrations/<name>/migration.sql in the copy. */
  add(name: string, sql: string): Promise<void>;
  cleanup(): Promise<void>;
}

export async function copyMigrations(): Promise<MigrationsFixture> {
  const root = await mkdtemp(join(tmpdir(), 'db-migrations-'));
  const dir = join(root, 'migrations');
  await cp(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
  return {
    dir,
    async add(name, sql) {
      await mkdir(join(dir, name), { recursive: true });
      await writeFile(join(dir, name, 'migration.sql'), sql);
    },
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

/** Runs `fn` with a plain pg connection to `url`: the tests' view of the database, apart from the code under test. */
export async function withClient<T>(
  url: string,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function queryRows<R extends pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<R[]> {
  return withClient(url, async (client) => (await client.query<R>(sql, params)).rows);
}

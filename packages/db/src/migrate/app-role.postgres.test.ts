import { randomBytes } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@repo/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows, withClient } from '../testing/migrations-fixture.ts';
import { grantAppRole } from './app-role.ts';
import { migrate } from './migrate.ts';

describe('grantAppRole (real PostgreSQL)', () => {
  // roles belong to the whole server, which other test runs share: a name of this run's own
  const role = `app_role_test_${randomBytes(5).toString('hex')}`;
  let database: TestDatabase;
  let appUrl = '';

  beforeAll(async () => {
    database = await createTestDatabase('app_role');
    await migrate({ databaseUrl: database.url });
    const url = new URL(database.url);
    url.username = role;
    url.password = 'app-role-test-password-1';
    appUrl = url.toString();
  });
  afterAll(async () => {
    await database?.drop();
    await withClient(database.url.replace(/\/[^/]*$/, '/postgres'), (client) =>
      client.query(`DROP ROLE IF EXISTS "${role}"`),
    );
  });

  /** Runs one statement as the app role; the error's message when PostgreSQL refuses it. */
  async function asApp(sql: string): Promise<string> {
    const client = new pg.Client({ connectionString: appUrl });
    await client.connect();
    try {
      await client.query(sql);
      return 'ok';
    } catch (error) {
      return (error as Error).message;
    } finally {
      await client.end();
    }
  }

  it('creates the role once, sets its password, and is idempotent', async () => {
    const password = (n: number) => `app-role-test-password-${n}`;
    expect(await grantAppRole({ databaseUrl: database.url, role, password: password(1) })).toEqual({
      created: true,
    });
    const hashOf = async () =>
      (
        await queryRows<{ hash: string }>(
          database.url,
          'SELECT rolpassword AS hash FROM pg_authid WHERE rolname = $1',
          [role],
        )
      )[0]?.hash;
    const first = await hashOf();
    expect(first).toMatch(/^SCRAM-SHA-256\$/);
    // again without a password: nothing changes
    expect(await grantAppRole({ databaseUrl: database.url, role })).toEqual({ created: false });
    expect(await hashOf()).toBe(first);
    // a new password rotates it
    await grantAppRole({ databaseUrl: database.url, role, password: password(2) });
    expect(await hashOf()).not.toBe(first);
    // several migrate runs at once (two services deploying) do not trip over each other
    const runs = await Promise.all(
      Array.from({ length: 3 }, () => grantAppRole({ databaseUrl: database.url, role })),
    );
    expect(runs).toEqual(Array.from({ length: 3 }, () => ({ created: false })));
  });

  it('lets the role read and write job rows', async () => {
    const id = '00000000-0000-4000-8000-00000000a001';
    expect(
      await asApp(
        `INSERT INTO jobs (id, type, payload, max_attempts) VALUES ('${id}', 't', '{}', 1)`,
      ),
    ).toBe('ok');
    expect(await asApp(`UPDATE jobs SET status = 'running' WHERE id = '${id}'`)).toBe('ok');
    expect(await asApp(`SELECT * FROM jobs WHERE id = '${id}'`)).toBe('ok');
    expect(await asApp('SELECT migration_name FROM _prisma_migrations')).toBe('ok');
    expect(await asApp(`DELETE FROM jobs WHERE id = '${id}'`)).toBe('ok');
  });

  it('refuses the role DROP, ALTER, TRUNCATE, CREATE and writes to the migration history', async () => {
    const refused = {
      'DROP TABLE jobs': /must be owner of table jobs/,
      'ALTER TABLE jobs ADD COLUMN x int': /must be owner of table jobs/,
      'ALTER TABLE jobs DROP COLUMN error': /must be owner of table jobs/,
      'CREATE INDEX jobs_x ON jobs (type)': /must be owner of table jobs/,
      'TRUNCATE jobs': /permission denied for table jobs/,
      'CREATE TABLE other (id int)': /permission denied for schema public/,
      'DROP TYPE job_status': /must be owner of type job_status/,
      'DELETE FROM _prisma_migrations': /permission denied for table _prisma_migrations/,
      "UPDATE _prisma_migrations SET logs = 'x'": /permission denied for table _prisma_migrations/,
    };
    for (const [sql, message] of Object.entries(refused)) {
      expect(await asApp(sql), sql).toMatch(message);
    }
    // nothing changed
    const columns = await queryRows<{ n: number }>(
      database.url,
      `SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'jobs' AND column_name IN ('x', 'error')`,
    );
    expect(columns).toEqual([{ n: 1 }]);
  });

  it('covers a table a later migration creates', async () => {
    await withClient(database.url, (client) =>
      client.query('CREATE TABLE later_table (id int PRIMARY KEY)'),
    );
    await grantAppRole({ databaseUrl: database.url, role });
    expect(await asApp('INSERT INTO later_table VALUES (1)')).toBe('ok');
    expect(await asApp('DROP TABLE later_table')).toMatch(/must be owner of table later_table/);
  });
});

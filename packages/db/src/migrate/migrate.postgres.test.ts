import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@repo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseUnavailableError } from '../database-unavailable.ts';
import {
  copyMigrations,
  type MigrationsFixture,
  queryRows,
  withClient,
} from '../testing/migrations-fixture.ts';
import { assertSchemaCurrent, migrate } from './migrate.ts';
import {
  DatabaseNotEmptyError,
  FailedMigrationError,
  MigrationFailedError,
  MigrationLockTimeoutError,
  ModifiedMigrationError,
  PendingMigrationsError,
  UnknownMigrationsError,
} from './migration-errors.ts';
import { DEFAULT_MIGRATIONS_DIR, readMigrationFiles } from './migration-files.ts';
import { MIGRATION_LOCK_KEY } from './migrations-table.ts';

const INIT = '20261123090000_init';
/** Every migration this package ships, in order (INIT first). */
const SHIPPED = (await readMigrationFiles(DEFAULT_MIGRATIONS_DIR)).map((file) => file.name);
const applied = (name: string) => ({ migration_name: name });

describe('migrate (real PostgreSQL)', () => {
  const databases: TestDatabase[] = [];
  const fixtures: MigrationsFixture[] = [];

  afterAll(async () => {
    await Promise.all(databases.map((database) => database.drop()));
    await Promise.all(fixtures.map((fixture) => fixture.cleanup()));
  });

  async function database(label: string) {
    const created = await createTestDatabase(label);
    databases.push(created);
    return created;
  }
  async function fixture() {
    const created = await copyMigrations();
    fixtures.push(created);
    return created;
  }

  describe('on an empty database', () => {
    let db: TestDatabase;
    let first: { applied: string[] };

    beforeAll(async () => {
      db = await database('migrate_empty');
      first = await migrate({ databaseUrl: db.url });
    });

    it('applies every shipped migration and creates the schema', async () => {
      const shipped = (await readMigrationFiles(DEFAULT_MIGRATIONS_DIR)).map((file) => file.name);
      expect(shipped).toContain(INIT);
      expect(first.applied).toEqual(shipped);

      const tables = await queryRows<{ table_name: string }>(
        db.url,
        `SELECT table_name FROM information_schema.tables
          WHERE table_schema = 'public' ORDER BY table_name`,
      );
      expect(tables.map((t) => t.table_name)).toEqual([
        '_prisma_migrations',
        'job_attempts',
        'job_events',
        'jobs',
        'schedules',
        'webhook_endpoints',
      ]);
      const enumValues = await queryRows<{ value: string }>(
        db.url,
        `SELECT unnest(enum_range(NULL::job_status))::text AS value`,
      );
      expect(enumValues.map((v) => v.value)).toEqual([
        'queued',
        'running',
        'succeeded',
        'failed',
        'cancelled',
        'expired',
      ]);
    });

    it('is a no-op the second time, leaving the history as it was', async () => {
      const before = await queryRows(db.url, 'SELECT * FROM _prisma_migrations ORDER BY id');
      expect(await migrate({ databaseUrl: db.url })).toEqual({ applied: [] });
      expect(await queryRows(db.url, 'SELECT * FROM _prisma_migrations ORDER BY id')).toEqual(
        before,
      );
    });

    it("creates _prisma_migrations with Prisma's exact columns", async () => {
      const columns = await queryRows(
        db.url,
        `SELECT column_name, data_type, character_maximum_length, is_nullable, column_default
           FROM information_schema.columns
          WHERE table_schema = 'public' AND table_name = '_prisma_migrations'
          ORDER BY ordinal_position`,
      );
      // prisma-engines: sql-schema-connector, PostgreSQL flavour, create_migrations_table
      expect(columns).toEqual([
        col('id', 'character varying', 36, 'NO', null),
        col('checksum', 'character varying', 64, 'NO', null),
        col('finished_at', 'timestamp with time zone', null, 'YES', null),
        col('migration_name', 'character varying', 255, 'NO', null),
        col('logs', 'text', null, 'YES', null),
        col('rolled_back_at', 'timestamp with time zone', null, 'YES', null),
        col('started_at', 'timestamp with time zone', null, 'NO', 'now()'),
        col('applied_steps_count', 'integer', null, 'NO', '0'),
      ]);
      const primaryKey = await queryRows(
        db.url,
        `SELECT kcu.column_name FROM information_schema.table_constraints tc
           JOIN information_schema.key_column_usage kcu USING (constraint_schema, constraint_name)
          WHERE tc.table_name = '_prisma_migrations' AND tc.constraint_type = 'PRIMARY KEY'`,
      );
      expect(primaryKey).toEqual([{ column_name: 'id' }]);
    });

    it('records each migration as Prisma does: UUID id, SHA-256 checksum, one step, finished', async () => {
      const rows = await queryRows<{
        id: string;
        checksum: string;
        migration_name: string;
        logs: string | null;
        rolled_back_at: Date | null;
        started_at: Date;
        finished_at: Date | null;
        applied_steps_count: number;
      }>(db.url, 'SELECT * FROM _prisma_migrations ORDER BY started_at');
      expect(rows).toHaveLength(first.applied.length);
      for (const [index, row] of rows.entries()) {
        const script = await readFile(
          join(DEFAULT_MIGRATIONS_DIR, row.migration_name, 'migration.sql'),
        );
        expect(row.migration_name).toBe(first.applied[index]);
        expect(row.id).toHaveLength(36);
        expect(row.id).toMatch(
          /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
        );
        // Prisma's checksum.rs: sha256 of the file, 64 zero-padded lowercase hex digits
        expect(row.checksum).toBe(createHash('sha256').update(script).digest('hex'));
        expect(row.applied_steps_count).toBe(1);
        expect(row.logs).toBeNull();
        expect(row.rolled_back_at).toBeNull();
        expect(row.finished_at).toBeInstanceOf(Date);
        expect(row.finished_at?.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
      }
    });

    it('passes assertSchemaCurrent', async () => {
      await expect(assertSchemaCurrent({ databaseUrl: db.url })).resolves.toEqual({ unknown: [] });
    });
  });

  it('creates the database when it does not exist, as prisma migrate deploy does', async () => {
    const db = await database('migrate_create');
    await db.drop();
    expect((await migrate({ databaseUrl: db.url })).applied).toEqual(SHIPPED);
    const rows = await queryRows(
      db.url,
      'SELECT migration_name FROM _prisma_migrations ORDER BY migration_name',
    );
    expect(rows).toEqual(SHIPPED.map(applied));
  });

  it('applies each migration once when five migrate() calls race', async () => {
    const db = await database('migrate_race');
    const dir = await fixture();
    // each fails when applied twice (CREATE TABLE without IF NOT EXISTS)
    await dir.add('20991231000001_a', 'CREATE TABLE "race_a" ("id" INTEGER);\n');
    await dir.add('20991231000002_b', 'CREATE TABLE "race_b" ("id" INTEGER);\n');
    const results = await Promise.all(
      Array.from({ length: 5 }, () => migrate({ databaseUrl: db.url, migrationsDir: dir.dir })),
    );
    const appliedAll = results.flatMap((result) => result.applied).sort();
    expect(appliedAll).toEqual([...SHIPPED, '20991231000001_a', '20991231000002_b'].sort());
    const rows = await queryRows<{ migration_name: string; n: number }>(
      db.url,
      `SELECT migration_name, count(*)::int AS n FROM _prisma_migrations GROUP BY 1 ORDER BY 1`,
    );
    expect(rows).toEqual(
      [...SHIPPED, '20991231000001_a', '20991231000002_b'].map((name) => ({
        migration_name: name,
        n: 1,
      })),
    );
  });

  it('refuses an applied migration whose file was edited, naming it', async () => {
    const db = await database('migrate_edited');
    const dir = await fixture();
    await migrate({ databaseUrl: db.url, migrationsDir: dir.dir });
    const file = join(dir.dir, INIT, 'migration.sql');
    const original = await readFile(file, 'utf8');

    // git may check the same file out with CRLF line endings; Prisma accepts that, so do we
    await writeFile(file, original.replaceAll('\n', '\r\n'));
    await expect(migrate({ databaseUrl: db.url, migrationsDir: dir.dir })).resolves.toEqual({
      applied: [],
    });

    await writeFile(file, original.replace('"error" TEXT', '"error" VARCHAR(500)'));
    for (const attempt of [
      () => migrate({ databaseUrl: db.url, migrationsDir: dir.dir }),
      () => assertSchemaCurrent({ databaseUrl: db.url, migrationsDir: dir.dir }),
    ]) {
      const error = await attempt().then(
        () => expect.unreachable('an edited migration must be refused'),
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ModifiedMigrationError);
      expect((error as ModifiedMigrationError).migrations).toEqual([INIT]);
      expect((error as Error).message).toContain(`migration ${INIT} changed after it was applied`);
      expect((error as Error).message).toContain('new migration');
    }
  });

  it('rolls a failing migration back, records it as failed, and blocks later runs until resolved', async () => {
    const db = await database('migrate_failed');
    const dir = await fixture();
    const broken = '20991231000001_broken';
    await dir.add(broken, 'CREATE TABLE "half_done" ("id" INTEGER);\nSELECT 1/0;\n');
    await dir.add('20991231000002_after', 'CREATE TABLE "after" ("id" INTEGER);\n');

    const failure = await migrate({ databaseUrl: db.url, migrationsDir: dir.dir }).then(
      () => expect.unreachable('the broken migration must fail'),
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(MigrationFailedError);
    expect((failure as MigrationFailedError).migration).toBe(broken);
    expect((failure as Error).message).toContain('division by zero');

    // nothing of the failed script remains, and nothing after it ran
    const tables = await queryRows<{ t: string | null }>(
      db.url,
      `SELECT to_regclass('half_done')::text AS t UNION ALL SELECT to_regclass('after')::text`,
    );
    expect(tables).toEqual([{ t: null }, { t: null }]);
    const [row] = await queryRows<{
      finished_at: Date | null;
      rolled_back_at: Date | null;
      applied_steps_count: number;
      logs: string;
    }>(db.url, 'SELECT * FROM _prisma_migrations WHERE migration_name = $1', [broken]);
    expect(row).toMatchObject({ finished_at: null, rolled_back_at: null, applied_steps_count: 0 });
    expect(row?.logs).toContain('22012');
    expect(row?.logs).toContain('division by zero');

    for (const attempt of [
      () => migrate({ databaseUrl: db.url, migrationsDir: dir.dir }),
      () => assertSchemaCurrent({ databaseUrl: db.url, migrationsDir: dir.dir }),
    ]) {
      const blocked = await attempt().then(
        () => expect.unreachable('a failed migration must block'),
        (e: unknown) => e,
      );
      expect(blocked).toBeInstanceOf(FailedMigrationError);
      expect((blocked as Error).message).toContain(broken);
      expect((blocked as Error).message).toContain(
        `prisma migrate resolve --rolled-back ${broken}`,
      );
      expect((blocked as Error).message).toContain('UPDATE _prisma_migrations SET rolled_back_at');
    }

    // resolving as the message says, with the file fixed, lets the history continue
    await withClient(db.url, (client) =>
      client.query(
        `UPDATE _prisma_migrations SET rolled_back_at = now()
          WHERE migration_name = $1 AND finished_at IS NULL AND rolled_back_at IS NULL`,
        [broken],
      ),
    );
    await dir.add(broken, 'CREATE TABLE "half_done" ("id" INTEGER);\n');
    expect(await migrate({ databaseUrl: db.url, migrationsDir: dir.dir })).toEqual({
      applied: [broken, '20991231000002_after'],
    });
  });

  it('records no failure when the connection is lost mid-migration, so the next run retries', async () => {
    const db = await database('migrate_lost');
    const dir = await fixture();
    const name = '20991231000001_lost';
    // the session ends itself half-way, as a server restart or failover would end it
    await dir.add(
      name,
      'CREATE TABLE "lost" ("id" INTEGER);\nSELECT pg_terminate_backend(pg_backend_pid());\n',
    );
    const error = await migrate({ databaseUrl: db.url, migrationsDir: dir.dir }).then(
      () => expect.unreachable('the connection was lost'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect((error as Error).message).toContain('Lost the connection to PostgreSQL');
    expect(
      await queryRows(db.url, 'SELECT migration_name FROM _prisma_migrations ORDER BY started_at'),
    ).toEqual(SHIPPED.map(applied));
    expect(await queryRows(db.url, `SELECT to_regclass('lost')::text AS t`)).toEqual([{ t: null }]);

    await dir.add(name, 'CREATE TABLE "lost" ("id" INTEGER);\n');
    expect(await migrate({ databaseUrl: db.url, migrationsDir: dir.dir })).toEqual({
      applied: [name],
    });
  });

  it('refuses a database with applied migrations the code does not know', async () => {
    const db = await database('migrate_unknown');
    const newer = await fixture();
    await newer.add('20991231000001_from_newer_code', 'CREATE TABLE "newer" ("id" INTEGER);\n');
    await migrate({ databaseUrl: db.url, migrationsDir: newer.dir });

    for (const attempt of [
      () => migrate({ databaseUrl: db.url }),
      () => assertSchemaCurrent({ databaseUrl: db.url }),
    ]) {
      const error = await attempt().then(
        () => expect.unreachable('unknown migrations must be refused'),
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UnknownMigrationsError);
      expect((error as UnknownMigrationsError).migrations).toEqual([
        '20991231000001_from_newer_code',
      ]);
      expect((error as Error).message).toContain('20991231000001_from_newer_code');
    }
  });

  it('refuses a database that has tables but no migration history', async () => {
    const db = await database('migrate_not_empty');
    await withClient(db.url, (client) => client.query('CREATE TABLE legacy (id INTEGER)'));
    const error = await migrate({ databaseUrl: db.url }).then(
      () => expect.unreachable('a non-empty database must be refused'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DatabaseNotEmptyError);
    expect((error as Error).message).toContain('legacy');
    expect(await queryRows(db.url, `SELECT to_regclass('jobs') AS t`)).toEqual([{ t: null }]);
  });

  describe('assertSchemaCurrent', () => {
    it('names the pending migrations', async () => {
      const db = await database('assert_pending');
      const dir = await fixture();
      await migrate({ databaseUrl: db.url, migrationsDir: dir.dir });
      await dir.add('20991231000001_next', 'CREATE TABLE "next_one" ("id" INTEGER);\n');
      await dir.add('20991231000002_after_next', 'CREATE TABLE "after_next" ("id" INTEGER);\n');

      const error = await assertSchemaCurrent({ databaseUrl: db.url, migrationsDir: dir.dir }).then(
        () => expect.unreachable('pending migrations must be reported'),
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(PendingMigrationsError);
      expect((error as PendingMigrationsError).pending).toEqual([
        '20991231000001_next',
        '20991231000002_after_next',
      ]);
      expect((error as Error).message).toContain(
        '2 migrations are not applied: 20991231000001_next, 20991231000002_after_next',
      );
      // it only reads: nothing was applied
      expect(await queryRows(db.url, `SELECT to_regclass('next_one') AS t`)).toEqual([{ t: null }]);
    });

    it('calls a migration without an outcome pending while a run holds the migration lock, and failed once none does', async () => {
      const db = await database('assert_in_progress');
      const dir = await fixture();
      await migrate({ databaseUrl: db.url, migrationsDir: dir.dir });
      await dir.add('20991231000001_running', 'CREATE TABLE "running_one" ("id" INTEGER);\n');
      await dir.add('20991231000002_after', 'CREATE TABLE "after_running" ("id" INTEGER);\n');
      // what a db-migrate applying 20991231000001_running right now has written so far
      await withClient(db.url, (client) =>
        client.query(
          `INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, applied_steps_count)
           VALUES (gen_random_uuid()::text, 'x', '20991231000001_running', now(), 0)`,
        ),
      );
      const check = () =>
        assertSchemaCurrent({ databaseUrl: db.url, migrationsDir: dir.dir }).then(
          () => expect.unreachable('the schema is not current'),
          (e: unknown) => e,
        );
      await withClient(db.url, async (holder) => {
        await holder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
        const whileHeld = await check();
        expect(whileHeld).toBeInstanceOf(PendingMigrationsError);
        expect((whileHeld as PendingMigrationsError).pending).toEqual([
          '20991231000001_running',
          '20991231000002_after',
        ]);
      });
      // the run is gone and left no outcome: interrupted, which needs resolving
      expect(await check()).toBeInstanceOf(FailedMigrationError);
    });

    it('reports every migration pending on a database without history, and on a missing database', async () => {
      const empty = await database('assert_empty');
      await expect(assertSchemaCurrent({ databaseUrl: empty.url })).rejects.toMatchObject({
        name: 'PendingMigrationsError',
        pending: SHIPPED,
      });
      const missing = await database('assert_missing');
      await missing.drop();
      const error = await assertSchemaCurrent({ databaseUrl: missing.url }).then(
        () => expect.unreachable('a missing database has pending migrations'),
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(PendingMigrationsError);
      expect((error as Error).message).toContain('does not exist yet');
      // and it did not create the database
      const exists = await queryRows(
        empty.url,
        'SELECT count(*)::int AS n FROM pg_database WHERE datname = $1',
        [missing.name],
      );
      expect(exists).toEqual([{ n: 0 }]);
    });
  });

  describe('a statement PostgreSQL refuses inside a transaction (CREATE INDEX CONCURRENTLY)', {
    timeout: 30_000,
  }, () => {
    const concurrent = '20991231000001_concurrent_index';
    const concurrentSql =
      '-- CreateIndex\nCREATE INDEX CONCURRENTLY "jobs_type_idx" ON "jobs"("type");\n';

    async function indexState(url: string, name: string) {
      return queryRows<{ valid: boolean }>(
        url,
        `SELECT i.indisvalid AS valid FROM pg_index i
           JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = $1`,
        [name],
      );
    }

    it('is applied outside a transaction, as prisma migrate deploy applies it, and recorded alike', async () => {
      const db = await database('migrate_concurrent');
      const dir = await fixture();
      await dir.add(concurrent, concurrentSql);
      await dir.add('20991231000002_after', 'CREATE TABLE "after" ("id" INTEGER);\n');

      expect(await migrate({ databaseUrl: db.url, migrationsDir: dir.dir })).toEqual({
        applied: [...SHIPPED, concurrent, '20991231000002_after'],
      });
      expect(await indexState(db.url, 'jobs_type_idx')).toEqual([{ valid: true }]);
      const [row] = await queryRows<Record<string, unknown>>(
        db.url,
        'SELECT * FROM _prisma_migrations WHERE migration_name = $1',
        [concurrent],
      );
      expect(row).toMatchObject({
        checksum: createHash('sha256').update(concurrentSql).digest('hex'),
        applied_steps_count: 1,
        logs: null,
        rolled_back_at: null,
        finished_at: expect.any(Date),
      });
      await expect(
        assertSchemaCurrent({ databaseUrl: db.url, migrationsDir: dir.dir }),
      ).resolves.toEqual({ unknown: [] });
    });

    it('is applied once when five migrate() calls race, none of them failing', async () => {
      const db = await database('migrate_concurrent_race');
      const dir = await fixture();
      await dir.add(concurrent, concurrentSql);
      const results = await Promise.all(
        Array.from({ length: 5 }, () => migrate({ databaseUrl: db.url, migrationsDir: dir.dir })),
      );
      expect(results.flatMap((result) => result.applied).sort()).toEqual(
        [...SHIPPED, concurrent].sort(),
      );
      expect(await indexState(db.url, 'jobs_type_idx')).toEqual([{ valid: true }]);
    });

    it('when it fails, is recorded as failed with what it may have left behind', async () => {
      const db = await database('migrate_concurrent_failed');
      const dir = await fixture();
      await migrate({ databaseUrl: db.url, migrationsDir: dir.dir });
      await withClient(db.url, (client) =>
        client.query(
          `INSERT INTO jobs (type, payload, max_attempts) VALUES ('twice', '{}', 1), ('twice', '{}', 1)`,
        ),
      );
      const unique = '20991231000001_unique_type';
      await dir.add(
        unique,
        'CREATE UNIQUE INDEX CONCURRENTLY "jobs_type_key" ON "jobs"("type");\n',
      );

      const failure = await migrate({ databaseUrl: db.url, migrationsDir: dir.dir }).then(
        () => expect.unreachable('duplicate types cannot get a unique index'),
        (e: unknown) => e,
      );
      expect(failure).toBeInstanceOf(MigrationFailedError);
      expect((failure as Error).message).toContain(`Migration ${unique} failed`);
      expect((failure as Error).message).toContain('could not create unique index');
      expect((failure as Error).message).toContain('outside a transaction');
      expect((failure as Error).message).not.toContain('was rolled back');
      // PostgreSQL leaves the half-built index behind, marked invalid
      expect(await indexState(db.url, 'jobs_type_key')).toEqual([{ valid: false }]);

      const [row] = await queryRows<{ logs: string; finished_at: Date | null; n: number }>(
        db.url,
        `SELECT logs, finished_at, (SELECT count(*)::int FROM _prisma_migrations
                                     WHERE migration_name = $1) AS n
           FROM _prisma_migrations WHERE migration_name = $1`,
        [unique],
      );
      expect(row).toMatchObject({ finished_at: null, n: 1 });
      expect(row?.logs).toContain('23505');
      expect(row?.logs).toContain('INVALID');

      const blocked = await migrate({ databaseUrl: db.url, migrationsDir: dir.dir }).then(
        () => expect.unreachable('a failed migration must block'),
        (e: unknown) => e,
      );
      expect(blocked).toBeInstanceOf(FailedMigrationError);
      expect((blocked as Error).message).toContain(unique);
      expect((blocked as Error).message).toContain('INVALID');
    });

    it('must be the only statement of its migration, as with Prisma; the rest is rolled back', async () => {
      const db = await database('migrate_concurrent_mixed');
      const dir = await fixture();
      const mixed = '20991231000001_mixed';
      await dir.add(
        mixed,
        'CREATE TABLE "mixed" ("id" INTEGER);\nCREATE INDEX CONCURRENTLY "mixed_id_idx" ON "mixed"("id");\n',
      );
      const failure = await migrate({ databaseUrl: db.url, migrationsDir: dir.dir }).then(
        () =>
          expect.unreachable('PostgreSQL runs a script of several statements in one transaction'),
        (e: unknown) => e,
      );
      expect(failure).toBeInstanceOf(MigrationFailedError);
      expect((failure as Error).message).toContain('cannot run inside a transaction block');
      expect((failure as Error).message).toContain('a migration of its own');
      expect(await queryRows(db.url, `SELECT to_regclass('mixed')::text AS t`)).toEqual([
        { t: null },
      ]);
    });
  });

  it('gives up waiting for the migration lock after lockTimeoutMs', async () => {
    const db = await database('migrate_lock');
    await withClient(db.url, async (holder) => {
      await holder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
      const started = performance.now();
      const error = await migrate({ databaseUrl: db.url, lockTimeoutMs: 300 }).then(
        () => expect.unreachable('the lock is held elsewhere'),
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(MigrationLockTimeoutError);
      expect(performance.now() - started).toBeLessThan(3_000);
    });
    // once the holder is gone, migrating goes ahead
    expect((await migrate({ databaseUrl: db.url })).applied).toEqual(SHIPPED);
  });
});

function col(
  column_name: string,
  data_type: string,
  character_maximum_length: number | null,
  is_nullable: 'YES' | 'NO',
  column_default: string | null,
) {
  return { column_name, data_type, character_maximum_length, is_nullable, column_default };
}

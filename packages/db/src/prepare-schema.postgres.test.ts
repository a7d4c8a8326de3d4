import { loadConfig } from '@repo/config';
import { createLogger, type Logger } from '@repo/logger';
import { captureJsonLines, createTestDatabase, type TestDatabase } from '@repo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateEnv } from './env.ts';
import { migrate } from './migrate/migrate.ts';
import { PendingMigrationsError, UnknownMigrationsError } from './migrate/migration-errors.ts';
import { DEFAULT_MIGRATIONS_DIR, readMigrationFiles } from './migrate/migration-files.ts';
import { prepareSchema } from './prepare-schema.ts';
import { copyMigrations, type MigrationsFixture, queryRows } from './testing/migrations-fixture.ts';

describe('prepareSchema (real PostgreSQL)', () => {
  const databases: TestDatabase[] = [];
  const fixtures: MigrationsFixture[] = [];
  const logs = captureJsonLines();
  const { lines } = logs;
  let logger: Logger;

  beforeAll(async () => {
    logger = await createLogger({
      service: 'test',
      version: 'test',
      config: { NODE_ENV: 'test', LOG_LEVEL: 'info', LOG_FORMAT: 'json' },
      destination: logs.destination,
    });
  });
  afterAll(async () => {
    await Promise.all(databases.map((database) => database.drop()));
    await Promise.all(fixtures.map((fixture) => fixture.cleanup()));
  });

  async function configFor(label: string, migrateOnStart: boolean) {
    const database = await createTestDatabase(label);
    databases.push(database);
    const env = loadConfig(migrateEnv, { DATABASE_URL: database.url });
    const config = {
      databaseUrl: env.DATABASE_URL,
      connectTimeoutMs: env.DATABASE_CONNECT_TIMEOUT,
      migrateOnStart,
    };
    return { database, config };
  }

  it('fails start-up naming the pending migrations when MIGRATE_ON_START is false', async () => {
    const { database, config } = await configFor('prepare_assert', false);
    const error = await prepareSchema(config, logger).then(
      () => expect.unreachable('pending migrations must stop start-up'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PendingMigrationsError);
    expect((error as Error).message).toMatch(/20261123090000_init.*Run db-migrate/s);
    expect(await queryRows(database.url, `SELECT to_regclass('jobs') AS t`)).toEqual([{ t: null }]);
  });

  it('migrates when MIGRATE_ON_START is true, and then passes as current', async () => {
    const { database, config } = await configFor('prepare_migrate', true);
    await prepareSchema(config, logger);
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: 'applied migration', migration: '20261123090000_init' }),
    );
    expect(await queryRows(database.url, 'SELECT count(*)::int AS n FROM jobs')).toEqual([
      { n: 0 },
    ]);
    await prepareSchema({ ...config, migrateOnStart: false }, logger);
    expect(lines.at(-1)).toMatchObject({ msg: 'database schema is current' });
  });

  /** A database migrated by a newer build: the shipped migrations plus one this build lacks. */
  async function migratedByNewerBuild(label: string, migrateOnStart: boolean) {
    const { database, config } = await configFor(label, migrateOnStart);
    const newer = await copyMigrations();
    fixtures.push(newer);
    await newer.add('20991231000001_from_newer_build', 'CREATE TABLE "newer" ("id" INTEGER);\n');
    await migrate({ databaseUrl: database.url, migrationsDir: newer.dir });
    return { database, config };
  }

  it('starts a rollback: accepts applied migrations this build does not know, with a warning', {
    timeout: 30_000,
  }, async () => {
    const { database, config } = await migratedByNewerBuild('prepare_rollback', false);
    const before = lines.length;
    await prepareSchema(config, logger);
    expect(lines.slice(before)).toEqual([
      expect.objectContaining({
        level: 'warn',
        unknownMigrations: ['20991231000001_from_newer_build'],
        msg: expect.stringContaining('rollback'),
      }),
      expect.objectContaining({ msg: 'database schema is current' }),
    ]);
    // db-migrate stays strict: it refuses to build on a history it does not know
    await expect(migrate({ databaseUrl: database.url })).rejects.toBeInstanceOf(
      UnknownMigrationsError,
    );
  });

  it('starts a rollback with MIGRATE_ON_START=true too, without migrating', {
    timeout: 30_000,
  }, async () => {
    const { database, config } = await migratedByNewerBuild('prepare_rollback_migrate', true);
    const before = lines.length;
    await prepareSchema(config, logger);
    expect(lines.slice(before).map((line) => line.msg)).not.toContain('applied migration');
    expect(lines.at(-1)).toMatchObject({ msg: 'database schema is current' });
    // the shipped migrations and the newer build's one, nothing applied since
    const shipped = await readMigrationFiles(DEFAULT_MIGRATIONS_DIR);
    expect(
      await queryRows(database.url, 'SELECT count(*)::int AS n FROM _prisma_migrations'),
    ).toEqual([{ n: shipped.length + 1 }]);
  });

  it('with waitForMigrations, stays in start-up while migrations are pending and continues once db-migrate applied them', {
    timeout: 30_000,
  }, async () => {
    const { database, config } = await configFor('prepare_wait', false);
    const before = lines.length;
    let prepared = false;
    const preparing = prepareSchema(
      { ...config, waitForMigrations: { retryIntervalMs: 100 } },
      logger,
    ).then(() => {
      prepared = true;
    });
    const waiting = async () => {
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        const line = lines.slice(before).find((l) => Array.isArray(l.pending));
        if (line) return line;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error('no "waiting" log line');
    };
    const shipped = await readMigrationFiles(DEFAULT_MIGRATIONS_DIR);
    expect(await waiting()).toMatchObject({
      level: 'warn',
      pending: shipped.map((migration) => migration.name),
      msg: expect.stringContaining('not ready until db-migrate'),
    });
    // several checks later it is still waiting, and logged the reason once
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(prepared).toBe(false);
    expect(lines.slice(before).filter((l) => Array.isArray(l.pending))).toHaveLength(1);

    await migrate({ databaseUrl: database.url });
    await preparing;
    expect(lines.at(-1)).toMatchObject({ msg: 'database schema is current' });
  });

  it('with waitForMigrations, still fails at once on a database it cannot reach', {
    timeout: 30_000,
  }, async () => {
    const { database, config } = await configFor('prepare_wait_unreachable', false);
    const unreachable = new URL(database.url);
    unreachable.port = '9';
    const error = await prepareSchema(
      {
        ...config,
        databaseUrl: loadConfig(migrateEnv, { DATABASE_URL: unreachable.toString() }).DATABASE_URL,
        waitForMigrations: { retryIntervalMs: 100 },
      },
      logger,
    ).then(
      () => expect.unreachable('an unreachable database fails start-up'),
      (e: unknown) => e,
    );
    expect((error as Error).name).toBe('DatabaseUnavailableError');
  });
});

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@repo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  copyMigrations,
  type MigrationsFixture,
  queryRows,
} from '../testing/migrations-fixture.ts';
import { openPrismaSchemaEngine } from '../testing/prisma-schema-engine.ts';
import { assertSchemaCurrent, migrate } from './migrate.ts';
import { FailedMigrationError, ModifiedMigrationError } from './migration-errors.ts';
import { DEFAULT_MIGRATIONS_DIR, readMigrationFiles } from './migration-files.ts';

/** Every migration this package ships, in order. */
const SHIPPED = (await readMigrationFiles(DEFAULT_MIGRATIONS_DIR)).map((file) => file.name);
const NOTES = '20991231000000_add_notes';

// "A database migrated by either tool is accepted by the other", checked against Prisma's own
// schema engine: the same code `prisma migrate deploy` and `prisma migrate status` run.
describe('db-migrate and Prisma migrate accept each other (real PostgreSQL, Prisma schema engine)', () => {
  const databases: TestDatabase[] = [];
  let fixture: MigrationsFixture;

  beforeAll(async () => {
    fixture = await copyMigrations();
    await fixture.add(NOTES, 'CREATE TABLE "notes" ("id" SERIAL PRIMARY KEY);\n');
  });
  afterAll(async () => {
    await Promise.all(databases.map((database) => database.drop()));
    await fixture?.cleanup();
  });

  async function database(label: string) {
    const created = await createTestDatabase(label);
    databases.push(created);
    return created;
  }

  it('Prisma sees a database migrated by db-migrate as up to date and applies nothing', async () => {
    const db = await database('compat_ours_first');
    const { applied } = await migrate({ databaseUrl: db.url, migrationsDir: fixture.dir });
    expect(applied).toEqual([...SHIPPED, NOTES]);

    const prisma = await openPrismaSchemaEngine(db.url);
    try {
      expect(await prisma.diagnose(fixture.dir)).toEqual({
        editedMigrationNames: [],
        failedMigrationNames: [],
        hasMigrationsTable: true,
        history: null,
      });
      expect(await prisma.applyMigrations(fixture.dir)).toEqual([]);
    } finally {
      await prisma.close();
    }
    const rows = await queryRows(db.url, 'SELECT count(*)::int AS n FROM _prisma_migrations');
    expect(rows[0]?.n).toBe(SHIPPED.length + 1);
  });

  it('db-migrate sees a database migrated by Prisma as up to date and applies nothing', async () => {
    const db = await database('compat_prisma_first');
    const prisma = await openPrismaSchemaEngine(db.url);
    try {
      expect(await prisma.applyMigrations(fixture.dir)).toEqual([...SHIPPED, NOTES]);
    } finally {
      await prisma.close();
    }
    await expect(
      assertSchemaCurrent({ databaseUrl: db.url, migrationsDir: fixture.dir }),
    ).resolves.toEqual({ unknown: [] });
    expect(await migrate({ databaseUrl: db.url, migrationsDir: fixture.dir })).toEqual({
      applied: [],
    });
  });

  it('each tool continues the history the other started', async () => {
    const db = await database('compat_mixed');
    const shippedOnly = await copyMigrations();
    try {
      const deploy = await openPrismaSchemaEngine(db.url);
      try {
        expect(await deploy.applyMigrations(shippedOnly.dir)).toEqual(SHIPPED);
      } finally {
        await deploy.close();
      }
      // db-migrate applies the next migration on top of Prisma's history…
      expect(await migrate({ databaseUrl: db.url, migrationsDir: fixture.dir })).toEqual({
        applied: [NOTES],
      });
      // …and Prisma accepts the result
      const status = await openPrismaSchemaEngine(db.url);
      try {
        expect((await status.diagnose(fixture.dir)).history).toBeNull();
      } finally {
        await status.close();
      }
    } finally {
      await shippedOnly.cleanup();
    }
  });

  it('both tools apply a CREATE INDEX CONCURRENTLY migration and accept what the other applied', async () => {
    const concurrent = await copyMigrations();
    const name = '20991231000000_concurrent_index';
    try {
      await concurrent.add(
        name,
        '-- CreateIndex\nCREATE INDEX CONCURRENTLY "jobs_type_idx" ON "jobs"("type");\n',
      );
      const ours = await database('compat_concurrent_ours');
      expect(
        (await migrate({ databaseUrl: ours.url, migrationsDir: concurrent.dir })).applied,
      ).toContain(name);
      const theirs = await database('compat_concurrent_prisma');
      const prisma = await openPrismaSchemaEngine(theirs.url);
      try {
        expect(await prisma.applyMigrations(concurrent.dir)).toContain(name);
      } finally {
        await prisma.close();
      }
      for (const db of [ours, theirs]) {
        const status = await openPrismaSchemaEngine(db.url);
        try {
          expect(await status.diagnose(concurrent.dir)).toMatchObject({
            editedMigrationNames: [],
            failedMigrationNames: [],
            history: null,
          });
        } finally {
          await status.close();
        }
        await expect(
          assertSchemaCurrent({ databaseUrl: db.url, migrationsDir: concurrent.dir }),
        ).resolves.toEqual({ unknown: [] });
        expect(
          await queryRows(
            db.url,
            `SELECT i.indisvalid AS valid FROM pg_index i
               JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'jobs_type_idx'`,
          ),
        ).toEqual([{ valid: true }]);
      }
    } finally {
      await concurrent.cleanup();
    }
  });

  it('both tools flag the same edited migration', async () => {
    const db = await database('compat_edited');
    const edited = await copyMigrations();
    try {
      await migrate({ databaseUrl: db.url, migrationsDir: edited.dir });
      const file = join(edited.dir, '20261123090000_init', 'migration.sql');
      await writeFile(file, `${await readFile(file, 'utf8')}-- an afterthought\n`);

      const prisma = await openPrismaSchemaEngine(db.url);
      try {
        expect((await prisma.diagnose(edited.dir)).editedMigrationNames).toEqual([
          '20261123090000_init',
        ]);
      } finally {
        await prisma.close();
      }
      const refusal = migrate({ databaseUrl: db.url, migrationsDir: edited.dir });
      await expect(refusal).rejects.toBeInstanceOf(ModifiedMigrationError);
      await expect(refusal).rejects.toMatchObject({ migrations: ['20261123090000_init'] });
    } finally {
      await edited.cleanup();
    }
  });

  it('Prisma sees a migration that failed under db-migrate as failed, as db-migrate does', async () => {
    const db = await database('compat_failed');
    const broken = await copyMigrations();
    try {
      await broken.add('20991231000000_broken', 'CREATE TABLE "x" ("id" INTEGER);\nSELECT 1/0;\n');
      await expect(migrate({ databaseUrl: db.url, migrationsDir: broken.dir })).rejects.toThrow(
        /20991231000000_broken failed/,
      );
      const prisma = await openPrismaSchemaEngine(db.url);
      try {
        expect((await prisma.diagnose(broken.dir)).failedMigrationNames).toEqual([
          '20991231000000_broken',
        ]);
        // and `prisma migrate deploy` refuses to go on, as db-migrate does (P3009)
        await expect(prisma.applyMigrations(broken.dir)).rejects.toThrow(/20991231000000_broken/);
      } finally {
        await prisma.close();
      }
      await expect(
        migrate({ databaseUrl: db.url, migrationsDir: broken.dir }),
      ).rejects.toBeInstanceOf(FailedMigrationError);
    } finally {
      await broken.cleanup();
    }
  });
});

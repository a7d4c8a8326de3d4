import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import { SchemaEngine } from '@prisma/schema-engine-wasm';
import pg from 'pg';

export const SCHEMA_PATH = fileURLToPath(new URL('../../prisma/schema.prisma', import.meta.url));

const NO_FILTERS = { externalTables: [], externalEnums: [] };

/**
 * Prisma's own schema engine (the Wasm build of prisma-engines' schema-engine, the code behind
 * `prisma migrate deploy/status` and `prisma migrate diff`), driven through @prisma/adapter-pg.
 * The tests use it as the reference for what Prisma writes into and accepts from a database.
 */
export async function openPrismaSchemaEngine(databaseUrl: string) {
  const schema = await readFile(SCHEMA_PATH, 'utf8');
  // The engine takes Prisma's advisory lock on a pooled connection and never releases it (the
  // CLI simply exits); closing this pool ends that session and with it the lock.
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  const adapter = bindMigrationAwareSqlAdapterFactory(new PrismaPg(pool));
  const engine = await SchemaEngine.new({ datamodels: [[SCHEMA_PATH, schema]] }, () => {}, adapter);
  return {
    /** `prisma migrate deploy`: applies the directory's pending migrations. */
    async applyMigrations(migrationsDir: string): Promise<string[]> {
      const output = await engine.applyMigrations({
        migrationsList: await listMigrations(migrationsDir),
        filters: NO_FILTERS,
      });
      return output.appliedMigrationNames;
    },
    /** `prisma migrate status`: what Prisma thinks of the database's migration history. */
    async diagnose(migrationsDir: string) {
      return engine.diagnoseMigrationHistory({
        migrationsList: await listMigrations(migrationsDir),
        optInToShadowDatabase: false,
        filters: NO_FILTERS,
      });
    },
    /** `prisma migrate diff --from-empty --to-schema schema.prisma --script` */
    async sqlForSchema(): Promise<string> {
      const result = await engine.diff({
        from: { tag: 'empty' },
        to: { tag: 'schemaDatamodel', files: [{ path: SCHEMA_PATH, content: schema }] },
        script: true,
        exitCode: null,
        filters: NO_FILTERS,
      });
      return result.stdout ?? '';
    },
    async close(): Promise<void> {
      engine.free();
      await pool.end();
    },
  };
}

async function listMigrations(baseDir: string) {
  const entries = await readdir(baseDir, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return {
    baseDir,
    lockfile: {
      path: 'migration_lock.toml',
      content: await readFile(join(baseDir, 'migration_lock.toml'), 'utf8'),
    },
    shadowDbInitScript: '',
    migrationDirectories: await Promise.all(
      names.map(async (name) => ({
        path: name,
        migrationFile: {
          path: 'migration.sql',
          content: {
            tag: 'ok' as const,
            value: await readFile(join(baseDir, name, 'migration.sql'), 'utf8'),
          },
        },
      })),
    ),
  };
}

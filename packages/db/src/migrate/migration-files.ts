import type { Dirent } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrationChecksum } from './checksum.ts';
import { MigrationsDirectoryError } from './migration-errors.ts';

/** One `prisma/migrations/<name>/migration.sql`, as `prisma migrate` lays them out. */
export interface MigrationFile {
  /** The directory name, e.g. `20261123090000_init`; also `_prisma_migrations.migration_name`. */
  name: string;
  script: string;
  checksum: string;
}

/**
 * The migrations this package ships: prisma/migrations next to src/ (development) and dist/
 * (built), which is why the package's `files` include `prisma`.
 */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(
  new URL('../../prisma/migrations', import.meta.url),
);

/**
 * Reads the migrations in the order Prisma applies them: directory names sorted, which the
 * UTC-timestamp prefix makes chronological. Files beside the directories (migration_lock.toml)
 * are not migrations.
 */
export async function readMigrationFiles(directory: string): Promise<MigrationFile[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(directory, { withFileTypes: true });
  } catch (error) {
    throw new MigrationsDirectoryError(`cannot read the migrations directory ${directory}`, {
      cause: error,
    });
  }
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const path = join(directory, name, 'migration.sql');
      let script: string;
      try {
        script = await readFile(path, 'utf8');
      } catch (error) {
        throw new MigrationsDirectoryError(
          `migration ${name} has no readable migration.sql (${path}); every directory under ${directory} must be a migration`,
          { cause: error },
        );
      }
      return { name, script, checksum: migrationChecksum(script) };
    }),
  );
}

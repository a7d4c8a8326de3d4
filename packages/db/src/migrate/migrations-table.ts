import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { isOutageFromDatabaseCall } from '../database-unavailable.ts';
import { scriptMatchesChecksum } from './checksum.ts';
import {
  FailedMigrationError,
  ModifiedMigrationError,
  UnknownMigrationsError,
} from './migration-errors.ts';
import type { MigrationFile } from './migration-files.ts';

// Prisma's migration history table, kept exactly as its schema engine keeps it, so that
// `prisma migrate deploy/status/dev` and db-migrate each accept a database the other migrated.
// Source: prisma/prisma-engines, schema-engine/connectors/sql-schema-connector — the PostgreSQL
// flavour's `create_migrations_table` (this DDL, verbatim) and sql_migration_persistence.rs (how
// rows are written: a random UUIDv4 id; started_at when a migration begins; applied_steps_count
// incremented and finished_at set when it succeeds; logs set and finished_at left NULL when it
// fails; rolled_back_at set by `prisma migrate resolve --rolled-back`).
export const MIGRATIONS_TABLE_DDL = `CREATE TABLE _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
);`;

/**
 * The key Prisma's schema engine locks with (`SELECT pg_advisory_lock(72707369)`), so a
 * `prisma migrate deploy` and a db-migrate running at the same time also wait for each other.
 */
export const MIGRATION_LOCK_KEY = 72707369;

/**
 * Whether a session holds the migration lock now: a db-migrate (or `prisma migrate deploy`) is
 * applying migrations. Read from pg_locks (a bigint advisory key shows as classid = its high 32
 * bits, objid = its low 32 bits, objsubid = 1), so checking takes no lock of its own.
 */
export async function migrationLockHeld(client: pg.Client): Promise<boolean> {
  const result = await client.query<{ held: boolean }>(
    `SELECT EXISTS (
       SELECT 1 FROM pg_locks
        WHERE locktype = 'advisory' AND granted AND classid = 0 AND objid = $1 AND objsubid = 1
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
     ) AS held`,
    [MIGRATION_LOCK_KEY],
  );
  return result.rows[0]?.held ?? false;
}

export interface MigrationRow {
  id: string;
  checksum: string;
  finishedAt: Date | null;
  migrationName: string;
  logs: string | null;
  rolledBackAt: Date | null;
  startedAt: Date;
  appliedStepsCount: number;
}

/** The migration history, or null when the database has no _prisma_migrations table. */
export async function readMigrationRows(client: pg.Client): Promise<MigrationRow[] | null> {
  const exists = await client.query<{ exists: boolean }>(
    `SELECT to_regclass('_prisma_migrations') IS NOT NULL AS exists`,
  );
  if (!exists.rows[0]?.exists) return null;
  const result = await client.query<MigrationRow>(
    `SELECT id, checksum, finished_at AS "finishedAt", migration_name AS "migrationName", logs,
            rolled_back_at AS "rolledBackAt", started_at AS "startedAt",
            applied_steps_count AS "appliedStepsCount"
       FROM _prisma_migrations
      ORDER BY started_at, migration_name`,
  );
  return result.rows;
}

/** Tables in the current schema, for the "not empty but never migrated" check. */
export async function listTables(client: pg.Client): Promise<string[]> {
  const result = await client.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables
      WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
      ORDER BY table_name`,
  );
  return result.rows.map((row) => row.table_name);
}

/**
 * Compares the directory with the history and returns the migrations still to apply, or throws
 * when the history cannot be built on: a failed migration (checked first, like Prisma's
 * `migrate deploy`), applied migrations the directory lacks, applied migrations whose file
 * changed. Rolled-back rows are ignored, as Prisma ignores them. With `allowUnknown`, applied
 * migrations the directory lacks are returned in `unknown` instead (a newer build applied them).
 */
export function planMigrations(
  files: readonly MigrationFile[],
  rows: readonly MigrationRow[],
  options: { allowUnknown?: boolean } = {},
) {
  const live = rows.filter((row) => row.rolledBackAt === null);
  const failed = live.filter((row) => row.finishedAt === null);
  if (failed.length > 0) {
    throw new FailedMigrationError(
      failed.map((row) => ({ name: row.migrationName, startedAt: row.startedAt, logs: row.logs })),
    );
  }
  const byName = new Map(files.map((file) => [file.name, file]));
  const unknown = [...new Set(live.map((row) => row.migrationName))].filter(
    (name) => !byName.has(name),
  );
  if (unknown.length > 0 && !options.allowUnknown) throw new UnknownMigrationsError(unknown);

  const modified = live
    .filter((row) => {
      const file = byName.get(row.migrationName);
      return file !== undefined && !scriptMatchesChecksum(file.script, row.checksum);
    })
    .map((row) => row.migrationName);
  if (modified.length > 0) throw new ModifiedMigrationError([...new Set(modified)]);

  const applied = new Set(live.map((row) => row.migrationName));
  return {
    applied: files.filter((file) => applied.has(file.name)),
    pending: files.filter((file) => !applied.has(file.name)),
    unknown,
  };
}

/** How `applyMigration` ran a script. */
export type MigrationMode = 'transaction' | 'outside-transaction';

/**
 * Applies one migration. Normally in one transaction together with its history row, so it is
 * recorded as applied exactly when its changes are committed; when the script fails, the
 * transaction is rolled back and the attempt is recorded the way Prisma records a failed migration
 * (logs set, finished_at NULL), which blocks later runs until someone resolves it.
 *
 * PostgreSQL refuses some statements inside a transaction block (CREATE INDEX CONCURRENTLY, DROP
 * INDEX CONCURRENTLY, VACUUM, …; SQLSTATE 25001). Such a script is rolled back before anything
 * of it took effect and run again as `prisma migrate deploy` runs every script: without BEGIN,
 * as one simple query, its history row written before and completed after.
 */
export async function applyMigration(
  client: pg.Client,
  file: MigrationFile,
): Promise<MigrationMode> {
  const id = randomUUID();
  const startedAt = new Date();
  await client.query('BEGIN');
  try {
    // now() is the transaction's start; clock_timestamp() the moment the script finished
    await client.query(
      `INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at)
       VALUES ($1, $2, $3, now())`,
      [id, file.checksum, file.name],
    );
    // no parameters: the simple query protocol, which runs a script of many statements
    await client.query(file.script);
    await client.query(
      `UPDATE _prisma_migrations
          SET applied_steps_count = applied_steps_count + 1, finished_at = clock_timestamp()
        WHERE id = $1`,
      [id],
    );
    await client.query('COMMIT');
    return 'transaction';
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    // A lost connection or a cancelled statement says nothing about the script, and nothing
    // was committed: no failure is recorded, so the next run simply tries again.
    if (isOutageFromDatabaseCall(error)) throw error;
    if (!isRefusedInTransaction(error)) {
      await recordFailure(
        () =>
          client.query(
            `INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, logs)
             VALUES ($1, $2, $3, $4, $5)`,
            [id, file.checksum, file.name, startedAt, describeFailure(error)],
          ),
        file,
        error,
      );
      throw error;
    }
  }
  await applyOutsideTransaction(client, file);
  return 'outside-transaction';
}

/** SQLSTATE 25001: "… cannot run inside a transaction block". */
function isRefusedInTransaction(error: unknown): boolean {
  return (error as { code?: unknown }).code === '25001';
}

// Written into the logs of a migration that failed outside a transaction, and so into the
// FailedMigrationError of every later run.
const OUTSIDE_TRANSACTION_NOTE =
  'The migration ran outside a transaction (PostgreSQL refuses one of its statements inside one), so nothing rolled it back: a failed CREATE INDEX CONCURRENTLY leaves an INVALID index behind, which must be dropped (DROP INDEX CONCURRENTLY) before the migration is marked rolled back and applied again.';
const ALONE_NOTE =
  'PostgreSQL runs a script of several statements as one transaction even without BEGIN, so a statement that cannot run inside a transaction block must be the only statement of a migration of its own, as with prisma migrate deploy.';

async function applyOutsideTransaction(client: pg.Client, file: MigrationFile): Promise<void> {
  const id = randomUUID();
  await client.query(
    `INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at)
     VALUES ($1, $2, $3, now())`,
    [id, file.checksum, file.name],
  );
  try {
    await client.query(file.script);
  } catch (error) {
    // A lost connection leaves the row as it is, started and unfinished: what the script did
    // cannot be known, and the next run refuses to go on until someone has looked.
    if (isOutageFromDatabaseCall(error)) throw error;
    const note = isRefusedInTransaction(error) ? ALONE_NOTE : OUTSIDE_TRANSACTION_NOTE;
    await recordFailure(
      () =>
        client.query('UPDATE _prisma_migrations SET logs = $2 WHERE id = $1', [
          id,
          `${describeFailure(error)}\n\n${note}`,
        ]),
      file,
      error,
    );
    throw new FailedOutsideTransactionError(note, { cause: error });
  }
  await client.query(
    `UPDATE _prisma_migrations
        SET applied_steps_count = applied_steps_count + 1, finished_at = clock_timestamp()
      WHERE id = $1`,
    [id],
  );
}

/** A script failed outside a transaction: the message says what that may have left; the cause is the database's error. */
export class FailedOutsideTransactionError extends Error {
  override readonly name = 'FailedOutsideTransactionError';
}

async function recordFailure(
  record: () => Promise<unknown>,
  file: MigrationFile,
  error: unknown,
): Promise<void> {
  await record().catch((recordError: unknown) => {
    throw new AggregateError(
      [error, recordError],
      `migration ${file.name} failed, and recording the failure failed too`,
    );
  });
}

/** What Prisma's logs column holds for a failed migration: the database's error, readably. */
function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const pgError = error as Error & { code?: string; position?: string; detail?: string };
  return [
    pgError.code ? `Database error code: ${pgError.code}` : undefined,
    `Database error:\n${error.message}`,
    pgError.detail ? `DETAIL: ${pgError.detail}` : undefined,
    pgError.position ? `Position: ${pgError.position}` : undefined,
  ]
    .filter(Boolean)
    .join('\n\n');
}

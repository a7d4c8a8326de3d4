import { setTimeout as sleep } from 'node:timers/promises';
import type { Secret } from '@repo/config';
import type pg from 'pg';
import { DatabaseUnavailableError, isOutageFromDatabaseCall } from '../database-unavailable.ts';
import {
  DatabaseNotEmptyError,
  FailedMigrationError,
  MigrationError,
  MigrationFailedError,
  MigrationLockTimeoutError,
  PendingMigrationsError,
} from './migration-errors.ts';
import {
  DEFAULT_MIGRATIONS_DIR,
  type MigrationFile,
  readMigrationFiles,
} from './migration-files.ts';
import {
  applyMigration,
  FailedOutsideTransactionError,
  listTables,
  MIGRATION_LOCK_KEY,
  MIGRATIONS_TABLE_DDL,
  type MigrationMode,
  type MigrationRow,
  migrationLockHeld,
  planMigrations,
  readMigrationRows,
} from './migrations-table.ts';
import {
  createDatabase,
  DatabaseMissingError,
  describeTarget,
  openSession,
  type SessionOptions,
} from './postgres-session.ts';

/** The part of a pino logger migrations report progress to. */
export interface MigrationLogger {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
}

export interface SchemaCheckOptions {
  /** PostgreSQL URL, plain or as the config's Secret. */
  databaseUrl: string | Secret<string>;
  /** Defaults to the migrations this package ships (prisma/migrations). */
  migrationsDir?: string;
  /** How long connecting may take before DatabaseUnavailableError. Default 5 s. */
  connectTimeoutMs?: number;
}

export interface SchemaAssertOptions extends SchemaCheckOptions {
  /**
   * Accept applied migrations this code does not have, and return their names instead of
   * refusing: a newer build applied them and this one is a rollback. For app start-up only;
   * `migrate()` always refuses such a database.
   */
  allowUnknownMigrations?: boolean;
}

/** What `assertSchemaCurrent` found besides "nothing is pending". */
export interface SchemaStatus {
  /** Applied migrations this code does not have (only with `allowUnknownMigrations`). */
  unknown: string[];
}

export interface MigrateOptions extends SchemaCheckOptions {
  /**
   * How long to wait for the migration lock while another process migrates. Default 10 min:
   * the wait is for that process's migrations to finish, however long they take.
   */
  lockTimeoutMs?: number;
  logger?: MigrationLogger;
}

export interface MigrateResult {
  /** Names of the migrations this call applied, in order; empty when there was nothing to do. */
  applied: string[];
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_LOCK_TIMEOUT_MS = 10 * 60_000;
// How often a process waiting for the migration lock asks again: soon at first, then every second.
const LOCK_RETRY_FIRST_MS = 25;
const LOCK_RETRY_MAX_MS = 1_000;

/**
 * Applies the pending migrations, in order, each in its own transaction, under Prisma's
 * advisory lock — N processes starting at once apply each migration exactly once — and
 * records them in `_prisma_migrations` as `prisma migrate deploy` does. Creates the database
 * when it does not exist. Refuses (typed MigrationError) when a migration failed earlier, an
 * applied migration's file changed, or the database has migrations this code does not know.
 */
export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  const url = revealUrl(options.databaseUrl);
  const session = sessionOptions(options, 'db-migrate');
  const files = await readMigrationFiles(options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR);
  const log = options.logger;

  let client: pg.Client;
  try {
    client = await openSession(url, session);
  } catch (error) {
    if (!(error instanceof DatabaseMissingError)) throw error;
    log?.info({ database: describeTarget(url) }, 'creating the database');
    await createDatabase(url, session);
    client = await openSession(url, session);
  }

  try {
    await acquireLock(client, options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS, log);
    try {
      // a role-level statement_timeout must not cut a long migration short
      await client.query('SET statement_timeout = 0');
      let rows = await readMigrationRows(client);
      if (rows === null) {
        const tables = await listTables(client);
        if (tables.length > 0) throw new DatabaseNotEmptyError(tables);
        await client.query(MIGRATIONS_TABLE_DDL);
        rows = [];
      }
      const { pending } = planMigrations(files, rows);
      if (pending.length === 0) {
        log?.info({ migrations: files.length }, 'database schema is up to date');
        return { applied: [] };
      }
      const applied: string[] = [];
      for (const file of pending) {
        await applyOne(client, file, log);
        applied.push(file.name);
      }
      log?.info({ applied }, `applied ${applied.length} migration(s)`);
      return { applied };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => {
        // the session ends just below, which releases the lock as well
      });
    }
  } catch (error) {
    if (isConnectionLoss(error)) {
      throw new DatabaseUnavailableError(
        `Lost the connection to PostgreSQL at ${describeTarget(url)} while migrating: ${(error as Error).message}`,
        { cause: error },
      );
    }
    throw error;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * For app start-up: resolves when every migration in the directory is applied, else throws —
 * PendingMigrationsError naming the missing ones, or the refusals `migrate()` would give.
 * Reads only; it never changes the database.
 */
export async function assertSchemaCurrent(options: SchemaAssertOptions): Promise<SchemaStatus> {
  const url = revealUrl(options.databaseUrl);
  const files = await readMigrationFiles(options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR);
  let client: pg.Client;
  try {
    client = await openSession(url, sessionOptions(options, 'db-schema-check'));
  } catch (error) {
    if (error instanceof DatabaseMissingError) {
      throw new PendingMigrationsError(
        files.map((file) => file.name),
        { databaseMissing: true },
      );
    }
    throw error;
  }
  try {
    const rows = (await readMigrationRows(client)) ?? [];
    let plan: ReturnType<typeof planMigrations>;
    try {
      plan = planMigrations(files, rows, { allowUnknown: options.allowUnknownMigrations ?? false });
    } catch (error) {
      throw await pendingWhileMigrating(error, client, files, rows);
    }
    const { pending, unknown } = plan;
    if (pending.length > 0) throw new PendingMigrationsError(pending.map((file) => file.name));
    return { unknown };
  } catch (error) {
    if (isConnectionLoss(error)) {
      throw new DatabaseUnavailableError(
        `Lost the connection to PostgreSQL at ${describeTarget(url)} while checking the schema: ${(error as Error).message}`,
        { cause: error },
      );
    }
    throw error;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * A migration being applied right now has a row without an outcome, as an interrupted one has:
 * while a run holds the migration lock, what it has not finished is pending, not failed, so an app
 * waiting for db-migrate does not stop because it looked in the middle of a run. Any other error,
 * and a recorded failure, is returned as it is.
 */
async function pendingWhileMigrating(
  error: unknown,
  client: pg.Client,
  files: readonly MigrationFile[],
  rows: readonly MigrationRow[],
): Promise<unknown> {
  if (!(error instanceof FailedMigrationError)) return error;
  if (error.migrations.some((migration) => migration.logs !== null)) return error;
  if (!(await migrationLockHeld(client))) return error;
  const finished = new Set(
    rows
      .filter((row) => row.finishedAt !== null && row.rolledBackAt === null)
      .map((row) => row.migrationName),
  );
  return new PendingMigrationsError(
    files.map((file) => file.name).filter((name) => !finished.has(name)),
  );
}

async function applyOne(client: pg.Client, file: MigrationFile, log?: MigrationLogger) {
  const started = performance.now();
  let mode: MigrationMode;
  try {
    mode = await applyMigration(client, file);
  } catch (error) {
    if (isOutageFromDatabaseCall(error)) throw error;
    throw error instanceof FailedOutsideTransactionError
      ? new MigrationFailedError(file.name, {
          cause: error.cause,
          outsideTransaction: error.message,
        })
      : new MigrationFailedError(file.name, { cause: error });
  }
  log?.info(
    { migration: file.name, mode, durationMs: Math.round(performance.now() - started) },
    'applied migration',
  );
}

/**
 * Waits for the lock at most `timeoutMs`, asking again and again rather than blocking in
 * pg_advisory_lock: a session blocked there holds a snapshot the whole time, and CREATE INDEX
 * CONCURRENTLY, run by the session that holds the lock, waits for every older snapshot in the
 * database to go away — the two would wait for each other until PostgreSQL's deadlock detector
 * cancels one of them. Between two tries this session holds no snapshot.
 */
async function acquireLock(client: pg.Client, timeoutMs: number, log?: MigrationLogger) {
  const deadline = performance.now() + timeoutMs;
  for (let attempt = 0; ; attempt += 1) {
    const tried = await client.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_lock($1) AS locked',
      [MIGRATION_LOCK_KEY],
    );
    if (tried.rows[0]?.locked) return;
    if (attempt === 0) {
      log?.info({ timeoutMs }, 'another process is migrating; waiting for it to finish');
    }
    const left = deadline - performance.now();
    if (left <= 0) {
      throw new MigrationLockTimeoutError(
        `Another process held the migration lock (pg_advisory_lock ${MIGRATION_LOCK_KEY}) for more than ${timeoutMs} ms. If no migration is running, look for a stuck session in pg_stat_activity holding it.`,
      );
    }
    await sleep(Math.min(LOCK_RETRY_MAX_MS, LOCK_RETRY_FIRST_MS * 2 ** attempt, left));
  }
}

/** A raw connection failure, not yet explained by one of this package's errors. */
function isConnectionLoss(error: unknown): boolean {
  return (
    isOutageFromDatabaseCall(error) &&
    !(error instanceof DatabaseUnavailableError) &&
    !(error instanceof MigrationError)
  );
}

function sessionOptions(options: SchemaCheckOptions, applicationName: string): SessionOptions {
  return {
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    applicationName,
  };
}

function revealUrl(url: string | Secret<string>): string {
  return typeof url === 'string' ? url : url.reveal();
}

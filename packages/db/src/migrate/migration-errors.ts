/** Every refusal of `migrate()` and `assertSchemaCurrent()`; the subclasses say which. */
export class MigrationError extends Error {
  override readonly name: string = 'MigrationError';
}

/** The migrations directory (or a migration in it) cannot be read. */
export class MigrationsDirectoryError extends MigrationError {
  override readonly name = 'MigrationsDirectoryError';
}

/** Migrations in the directory that the database has not applied yet (assertSchemaCurrent). */
export class PendingMigrationsError extends MigrationError {
  override readonly name = 'PendingMigrationsError';
  readonly pending: readonly string[];

  constructor(pending: readonly string[], options?: { databaseMissing?: boolean }) {
    const what = options?.databaseMissing
      ? `The database does not exist yet, so all ${pending.length} migrations are pending`
      : `The database schema is behind: ${pending.length} migration${pending.length === 1 ? ' is' : 's are'} not applied`;
    super(
      `${what}: ${pending.join(', ')}. Run db-migrate before starting the app, or set MIGRATE_ON_START=true for a single-instance setup.`,
    );
    this.pending = Object.freeze([...pending]);
  }
}

/** An applied migration whose migration.sql has been changed since (Prisma: P3006-style drift). */
export class ModifiedMigrationError extends MigrationError {
  override readonly name = 'ModifiedMigrationError';
  readonly migrations: readonly string[];

  constructor(migrations: readonly string[]) {
    super(
      `The migration.sql of ${migrations.length === 1 ? 'migration' : 'migrations'} ${migrations.join(', ')} changed after ${migrations.length === 1 ? 'it was' : 'they were'} applied to this database (the checksum in _prisma_migrations no longer matches). Applied migrations must never be edited: restore the file from version control and put the change into a new migration.`,
    );
    this.migrations = Object.freeze([...migrations]);
  }
}

/** A migration that failed earlier and blocks every later run, as Prisma's P3009 does. */
export class FailedMigrationError extends MigrationError {
  override readonly name = 'FailedMigrationError';
  readonly migrations: readonly { name: string; startedAt: Date; logs: string | null }[];

  constructor(migrations: readonly { name: string; startedAt: Date; logs: string | null }[]) {
    const details = migrations.map(
      (m) =>
        `  - ${m.name}, started at ${m.startedAt.toISOString()}: ${m.logs?.trim() || 'no outcome was recorded (the run was interrupted, or the migration is still running elsewhere)'}`,
    );
    const first = migrations[0]?.name ?? '<name>';
    super(
      [
        'Migrations failed earlier on this database, so no further migration is applied until that is resolved:',
        ...details,
        'db-migrate runs a migration in a transaction whenever PostgreSQL allows it, and such a migration left no partial changes; one that ran outside a transaction (CREATE INDEX CONCURRENTLY and the like, said in its logs), one without a recorded outcome, or one applied by another tool may have. Check the database, then either',
        `  - mark it rolled back so it is applied again: \`prisma migrate resolve --rolled-back ${first}\` or UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = '${first}' AND finished_at IS NULL AND rolled_back_at IS NULL;`,
        `  - or, if you completed its changes by hand, mark it applied: \`prisma migrate resolve --applied ${first}\`.`,
        'See https://pris.ly/d/migrate-resolve',
      ].join('\n'),
    );
    this.migrations = Object.freeze([...migrations]);
  }
}

/** The database has applied migrations this code does not have: it was migrated by newer code. */
export class UnknownMigrationsError extends MigrationError {
  override readonly name = 'UnknownMigrationsError';
  readonly migrations: readonly string[];

  constructor(migrations: readonly string[]) {
    super(
      `The database has applied ${migrations.length === 1 ? 'a migration' : 'migrations'} that this code does not know: ${migrations.join(', ')}. It was migrated by a newer (or different) version of the code; deploy that version, or restore the missing migration directories.`,
    );
    this.migrations = Object.freeze([...migrations]);
  }
}

/**
 * No _prisma_migrations table, but the schema already has tables: applying the first migration
 * would collide with them. Prisma refuses the same way (P3005) and calls the fix baselining.
 */
export class DatabaseNotEmptyError extends MigrationError {
  override readonly name = 'DatabaseNotEmptyError';
  readonly tables: readonly string[];

  constructor(tables: readonly string[]) {
    super(
      `The database schema is not empty (tables: ${tables.slice(0, 10).join(', ')}${tables.length > 10 ? ', …' : ''}) but has no _prisma_migrations table, so it is not clear which migrations it already has. Baseline it first: https://pris.ly/d/migrate-baseline`,
    );
    this.tables = Object.freeze([...tables]);
  }
}

/**
 * A migration's SQL failed in this run and is recorded as failed. It was rolled back, unless it
 * had to run outside a transaction: `outsideTransaction` then says what that may have left.
 */
export class MigrationFailedError extends MigrationError {
  override readonly name = 'MigrationFailedError';
  readonly migration: string;

  constructor(migration: string, options: { cause: unknown; outsideTransaction?: string }) {
    const reason = options.cause instanceof Error ? options.cause.message : String(options.cause);
    const outcome =
      options.outsideTransaction === undefined
        ? `failed and was rolled back: ${reason}.`
        : `failed: ${reason}. ${options.outsideTransaction}`;
    super(
      `Migration ${migration} ${outcome} It is recorded as failed in _prisma_migrations and blocks later runs until resolved (see the FailedMigrationError message of the next run).`,
      { cause: options.cause },
    );
    this.migration = migration;
  }
}

/** Another process held the migration lock for longer than the wait allowed. */
export class MigrationLockTimeoutError extends MigrationError {
  override readonly name = 'MigrationLockTimeoutError';
}

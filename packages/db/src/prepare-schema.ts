import { setTimeout as sleep } from 'node:timers/promises';
import type { Secret } from '@repo/config';
import type { Logger } from '@repo/logger';
import { isDatabaseUnavailableError } from './database-unavailable.ts';
import {
  assertSchemaCurrent,
  migrate,
  type SchemaAssertOptions,
  type SchemaStatus,
} from './migrate/migrate.ts';
import { PendingMigrationsError } from './migrate/migration-errors.ts';

export interface PrepareSchemaOptions {
  databaseUrl: Secret;
  connectTimeoutMs: number;
  /** Apply pending migrations instead of checking that none are pending (MIGRATE_ON_START). */
  migrateOnStart: boolean;
  /**
   * While migrations are pending, wait for another process (the deploy's db-migrate) to apply
   * them, checking every `retryIntervalMs`, instead of failing start-up. For apps a deploy may
   * start before its migration has finished: they stay not ready meanwhile.
   */
  waitForMigrations?: { retryIntervalMs: number };
}

/**
 * The one call every app's main makes before it uses the database:
 * - `migrateOnStart` (MIGRATE_ON_START=true, single-instance setups): applies pending migrations;
 * - otherwise: checks that every migration this build has is applied — failing start-up with a
 *   PendingMigrationsError naming what db-migrate still has to apply, or, with
 *   `waitForMigrations`, waiting until it has.
 * Applied migrations this build does not know are accepted with a warning: a newer build applied
 * them and this one is a rollback, which must start (db-migrate itself still refuses them).
 */
export async function prepareSchema(options: PrepareSchemaOptions, logger: Logger): Promise<void> {
  const target: SchemaAssertOptions = {
    databaseUrl: options.databaseUrl,
    connectTimeoutMs: options.connectTimeoutMs,
    allowUnknownMigrations: true,
  };
  const status = options.migrateOnStart
    ? await migrateWhenPending(target, logger)
    : options.waitForMigrations
      ? await waitUntilCurrent(target, logger, options.waitForMigrations.retryIntervalMs)
      : await assertSchemaCurrent(target);
  if (status.unknown.length > 0) {
    logger.warn(
      { unknownMigrations: status.unknown },
      'the database has migrations this build does not know: a newer build applied them, so this build runs as a rollback against a newer schema',
    );
  }
  logger.info('database schema is current');
}

/** Checks first, so that a rollback's start never reaches migrate(), which refuses a newer schema. */
async function migrateWhenPending(
  target: SchemaAssertOptions,
  logger: Logger,
): Promise<SchemaStatus> {
  try {
    return await assertSchemaCurrent(target);
  } catch (error) {
    if (!(error instanceof PendingMigrationsError)) throw error;
    await migrate({
      databaseUrl: target.databaseUrl,
      ...(target.connectTimeoutMs === undefined
        ? {}
        : { connectTimeoutMs: target.connectTimeoutMs }),
      logger,
    });
    return { unknown: [] };
  }
}

/**
 * Polls until nothing is pending. Logs why it waits once, and again whenever the reason changes
 * (the pending list shrinks, the database went away meanwhile). A database that cannot be reached
 * at the first check still fails start-up, as without waiting; one lost while waiting (a restart
 * during the migration) is waited out.
 */
async function waitUntilCurrent(
  target: SchemaAssertOptions,
  logger: Logger,
  retryIntervalMs: number,
): Promise<SchemaStatus> {
  let waitingFor: string | undefined;
  for (;;) {
    try {
      const status = await assertSchemaCurrent(target);
      if (waitingFor !== undefined) logger.info('the pending migrations are applied');
      return status;
    } catch (error) {
      let reason: string;
      let details: object;
      if (error instanceof PendingMigrationsError) {
        reason = `pending: ${error.pending.join(', ')}`;
        details = { pending: error.pending };
      } else if (waitingFor !== undefined && isDatabaseUnavailableError(error)) {
        reason = 'database unavailable';
        details = { err: error };
      } else {
        throw error;
      }
      if (reason !== waitingFor) {
        logger.warn(
          { ...details, retryIntervalMs },
          error instanceof PendingMigrationsError
            ? 'the database schema is behind this build: not ready until db-migrate has applied the pending migrations'
            : 'the database became unavailable while waiting for the pending migrations',
        );
        waitingFor = reason;
      }
      await sleep(retryIntervalMs);
    }
  }
}

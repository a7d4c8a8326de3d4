import type { DatabaseConfig, MigrationConfig } from '@repo/config';
import type { Logger } from '@repo/logger';
import { assertSchemaCurrent, migrate } from './migrate/migrate.ts';

/**
 * The one call every app's main makes before it uses the database: applies pending migrations
 * when MIGRATE_ON_START is true (single-instance setups), otherwise fails start-up with a
 * PendingMigrationsError naming what db-migrate still has to apply.
 */
export async function prepareSchema(
  config: DatabaseConfig & MigrationConfig,
  logger: Logger,
): Promise<void> {
  const target = {
    databaseUrl: config.DATABASE_URL,
    connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT,
  };
  if (config.MIGRATE_ON_START) {
    await migrate({ ...target, logger });
    return;
  }
  await assertSchemaCurrent(target);
  logger.info('database schema is current');
}

import {
  boolean,
  describeEnv,
  duration,
  integer,
  runtimeEnv,
  secretString,
  secretUrl,
} from '@repo/config';
import { z } from 'zod';

const database = z.object({
  DATABASE_URL: describeEnv(secretUrl(['postgres', 'postgresql']), {
    description: 'PostgreSQL connection URL.',
    example: 'postgresql://app:password@localhost:5432/app',
    secret: true,
  }),
  DATABASE_POOL_SIZE: describeEnv(integer({ min: 1, max: 200 }).prefault('10'), {
    description: 'Connections this process keeps open at most.',
  }),
  DATABASE_CONNECT_TIMEOUT: describeEnv(duration({ min: 100, max: 120_000 }).prefault('5s'), {
    description: 'How long to wait for a new connection before failing (instead of hanging).',
  }),
  DATABASE_STATEMENT_TIMEOUT: describeEnv(duration({ min: 100 }).prefault('30s'), {
    description:
      'PostgreSQL statement_timeout for this process; a runaway query is cancelled after it.',
  }),
});

const migration = z.object({
  MIGRATE_ON_START: describeEnv(boolean().prefault('false'), {
    description:
      'Apply pending migrations when the process starts (single-instance setups). Otherwise the api fails start-up while migrations are pending, and the worker waits, not ready, until db-migrate has applied them.',
    example: 'false',
  }),
});

/** The variables of a process that uses the database. */
export const databaseEnv = () => database;
export type DatabaseEnv = z.output<typeof database>;

/** createDb's connection settings from these variables (an app adds its applicationName). */
export function databaseOptions(env: DatabaseEnv) {
  return {
    url: env.DATABASE_URL,
    poolSize: env.DATABASE_POOL_SIZE,
    connectTimeoutMs: env.DATABASE_CONNECT_TIMEOUT,
    statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT,
  };
}

/** The variables of a process that checks (or applies) the schema when it starts. */
export const migrationEnv = () => migration;
export type MigrationEnv = z.output<typeof migration>;

/** The one-off migrate command: the least-privilege role it prepares for the apps. */
const appRole = z.object({
  DATABASE_APP_ROLE: describeEnv(
    z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a PostgreSQL role name: lower-case letters, digits, _')
      .optional(),
    {
      description:
        'After migrating, create this login role if missing and grant it row access (SELECT, INSERT, UPDATE, DELETE) to the tables and nothing more; the api and the worker then connect as it, while DATABASE_URL of the migrate command keeps the owner role. Unset: no role is prepared.',
      example: 'jobstack_app',
    },
  ),
  DATABASE_APP_PASSWORD: describeEnv(secretString({ minLength: 16 }).optional(), {
    description:
      "Password DATABASE_APP_ROLE logs in with, set (or rotated) on every migrate run; unset leaves an existing role's password as it is.",
    secret: true,
  }),
});

/** The one-off `db-migrate` command (compose service, Render/Railway pre-deploy step). */
export const migrateEnv = z.object({
  ...runtimeEnv().shape,
  ...database.shape,
  ...appRole.shape,
});
export type MigrateConfig = z.output<typeof migrateEnv>;

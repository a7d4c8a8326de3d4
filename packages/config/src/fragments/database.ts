import { z } from 'zod';
import { boolean, describeEnv, duration, integer, secretString, secretUrl } from '../env-values.ts';

export const databaseEnv = z.object({
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
export type DatabaseConfig = z.output<typeof databaseEnv>;

export const migrationEnv = z.object({
  MIGRATE_ON_START: describeEnv(boolean().prefault('false'), {
    description:
      'Apply pending migrations when the process starts (single-instance setups). Otherwise the api fails start-up while migrations are pending, and the worker waits, not ready, until db-migrate has applied them.',
    example: 'false',
  }),
});
export type MigrationConfig = z.output<typeof migrationEnv>;

/** The one-off migrate command: the least-privilege role it prepares for the apps. */
export const appRoleEnv = z.object({
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
export type AppRoleConfig = z.output<typeof appRoleEnv>;

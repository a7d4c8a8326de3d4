import type { Secret } from '@repo/config';
import { openSession } from './postgres-session.ts';

export interface AppRoleOptions {
  /** The owner's URL: the role that runs migrations and owns the tables. */
  databaseUrl: string | Secret<string>;
  /** The role the api and the worker log in as. */
  role: string;
  /** Sets (or rotates) the role's password; without it an existing role keeps its own. */
  password?: string | Secret<string>;
  connectTimeoutMs?: number;
}

const reveal = (value: string | Secret<string>) =>
  typeof value === 'string' ? value : value.reveal();

/**
 * Creates the apps' login role when missing and gives it exactly what the apps do: read and write
 * rows of the schema's tables (the migrations table read-only), use its sequences, nothing else.
 * It owns nothing, so it cannot DROP, ALTER or TRUNCATE a table, and it may not CREATE in the
 * schema. Run after every migration: the grants cover tables a migration has just created, and
 * default privileges cover tables the owner creates later by other means.
 * Idempotent; concurrent runs are serialised by a transaction-scoped advisory lock.
 */
export async function grantAppRole(options: AppRoleOptions): Promise<{ created: boolean }> {
  const client = await openSession(reveal(options.databaseUrl), {
    connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
    applicationName: 'db-migrate',
  });
  try {
    await client.query('BEGIN');
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('jobstack app role'))`);
    const exists =
      (await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [options.role])).rowCount ===
      1;
    // Role names and passwords cannot be statement parameters: format() quotes them.
    const statement = async (template: string, ...args: string[]) => {
      const { rows } = await client.query<{ sql: string }>(
        `SELECT format(${['$1::text', ...args.map((_, i) => `$${i + 2}::text`)].join(', ')}) AS sql`,
        [template, ...args],
      );
      await client.query(rows[0]?.sql ?? '');
    };
    if (!exists) await statement('CREATE ROLE %I LOGIN', options.role);
    if (options.password !== undefined) {
      await statement('ALTER ROLE %I LOGIN PASSWORD %L', options.role, reveal(options.password));
    }
    const { rows } = await client.query<{ database: string; schema: string }>(
      'SELECT current_database() AS database, current_schema() AS schema',
    );
    const { database, schema } = rows[0] ?? { database: '', schema: '' };
    await statement('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', database, options.role);
    await statement('REVOKE CREATE ON SCHEMA %I FROM PUBLIC, %I', schema, options.role);
    await statement('GRANT USAGE ON SCHEMA %I TO %I', schema, options.role);
    await statement(
      'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO %I',
      schema,
      options.role,
    );
    // the apps only check which migrations are applied
    await statement(
      'REVOKE INSERT, UPDATE, DELETE ON TABLE %I.%I FROM %I',
      schema,
      '_prisma_migrations',
      options.role,
    );
    await statement(
      'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO %I',
      schema,
      options.role,
    );
    await statement(
      'ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I',
      schema,
      options.role,
    );
    await statement(
      'ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT ON SEQUENCES TO %I',
      schema,
      options.role,
    );
    await client.query('COMMIT');
    return { created: !exists };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    await client.end().catch(() => {});
  }
}

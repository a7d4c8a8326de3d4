import pg from 'pg';
import { DatabaseUnavailableError, isOutageFromDatabaseCall } from '../database-unavailable.ts';

export interface SessionOptions {
  connectTimeoutMs: number;
  applicationName: string;
}

/** `host:port/database` of a connection URL: enough to tell which server, never the password. */
export function describeTarget(url: string): string {
  const parsed = URL.parse(url);
  if (!parsed) return 'the configured database';
  const database = decodeURIComponent(parsed.pathname.slice(1)) || '(default database)';
  return `${parsed.hostname}${parsed.port ? `:${parsed.port}` : ''}/${database}`;
}

/** The database in use does not exist (SQLSTATE 3D000); the caller may create it. */
export class DatabaseMissingError extends Error {
  override readonly name = 'DatabaseMissingError';
}

/**
 * One connection, as migrations need: the advisory lock belongs to a session, so everything
 * happens on the same connection. Connecting gives up after `connectTimeoutMs`.
 */
export async function openSession(url: string, options: SessionOptions): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: options.connectTimeoutMs,
    application_name: options.applicationName,
  });
  // A connection lost while idle is reported here; the next query then fails with the reason.
  client.on('error', () => {});
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => {});
    if ((error as { code?: unknown }).code === '3D000') {
      throw new DatabaseMissingError(`database ${describeTarget(url)} does not exist`, {
        cause: error,
      });
    }
    if (isOutageFromDatabaseCall(error)) {
      throw new DatabaseUnavailableError(
        `Cannot connect to PostgreSQL at ${describeTarget(url)} within ${options.connectTimeoutMs} ms: ${(error as Error).message}`,
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * Creates the database named in `url`, as `prisma migrate deploy` does, through the server's
 * maintenance database (`postgres`, else `template1`). Several processes may race to create
 * it; losing that race is fine.
 */
export async function createDatabase(url: string, options: SessionOptions): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  let lastMissing: DatabaseMissingError | undefined;
  for (const maintenance of ['postgres', 'template1']) {
    const adminUrl = new URL(url);
    adminUrl.pathname = `/${maintenance}`;
    let client: pg.Client;
    try {
      client = await openSession(adminUrl.toString(), options);
    } catch (error) {
      if (error instanceof DatabaseMissingError) {
        lastMissing = error;
        continue;
      }
      throw error;
    }
    try {
      await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
    } catch (error) {
      // 42P04 duplicate_database; 23505 when two CREATE DATABASE commands race in the catalog
      const code = (error as { code?: unknown }).code;
      if (code !== '42P04' && code !== '23505') throw error;
    } finally {
      await client.end().catch(() => {});
    }
    return;
  }
  throw new DatabaseUnavailableError(
    `Cannot create database "${name}": the server at ${describeTarget(url)} has neither a postgres nor a template1 database to connect to for that`,
    { cause: lastMissing },
  );
}

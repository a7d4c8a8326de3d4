import { PrismaPg } from '@prisma/adapter-pg';
import type { Secret } from '@repo/config';
import pTimeout from 'p-timeout';
import pg from 'pg';
import { DatabaseUnavailableError, rethrowUnavailable } from './database-unavailable.ts';
import { PrismaClient } from './generated/prisma/client.ts';

export type { PrismaClient } from './generated/prisma/client.ts';

export interface Db {
  /**
   * Prisma 7 over @prisma/adapter-pg (no query engine binary; the pool below does the I/O), built
   * on first use: the apps never use it (the job repository queries the pool), tests and scripts do.
   */
  readonly prisma: PrismaClient;
  /**
   * The connection pool under Prisma, for hot paths where Prisma's per-query cost shows (the job
   * repository). Same connections, same timeouts.
   */
  pool: pg.Pool;
  /** `SELECT 1`; rejects with DatabaseUnavailableError within `connectTimeoutMs`. */
  ping(): Promise<void>;
  /** Closes the pool once in-flight queries are done. Safe to call more than once. */
  disconnect(): Promise<void>;
}

export interface CreateDbOptions {
  url: Secret;
  /** Connections kept open at most. */
  poolSize: number;
  /** Bounds opening a connection, waiting for a free one, and ping(). */
  connectTimeoutMs: number;
  /** The server cancels a statement running longer (PostgreSQL statement_timeout). */
  statementTimeoutMs: number;
  /** Shown in pg_stat_activity, so a DBA sees which service a connection belongs to. */
  applicationName?: string;
  /**
   * An idle pooled connection broke (server restart, network). pg drops it from the pool and
   * the next query opens a new one, so this is informational; without a listener the error
   * would crash the process.
   */
  onIdleConnectionError?: (error: Error) => void;
}

/**
 * The connection pool and Prisma client of one process. Nothing connects until the first
 * query; a database that cannot be reached fails that query with DatabaseUnavailableError
 * (through the repository, ping, or isDatabaseUnavailableError for direct Prisma calls) after
 * at most `connectTimeoutMs` instead of hanging.
 */
export function createDb(options: CreateDbOptions): Db {
  const { connectTimeoutMs, statementTimeoutMs } = options;
  const pool = new pg.Pool({
    connectionString: options.url.reveal(),
    max: options.poolSize,
    // bounds both opening a connection and waiting for a free one when all are busy
    connectionTimeoutMillis: connectTimeoutMs,
    // sent at connect time: the server cancels any statement running longer
    statement_timeout: statementTimeoutMs,
    // a server that stops answering (network partition) never cancels anything: give up
    // client-side once the statement could no longer be running
    query_timeout: statementTimeoutMs + connectTimeoutMs,
    keepAlive: true,
    ...(options.applicationName === undefined ? {} : { application_name: options.applicationName }),
  });
  pool.on('error', (error) => options.onIdleConnectionError?.(error));

  let prisma: PrismaClient | undefined;
  let closing: Promise<void> | undefined;

  return {
    get prisma() {
      prisma ??= new PrismaClient({ adapter: new PrismaPg(pool) });
      return prisma;
    },
    pool,
    async ping() {
      try {
        await pTimeout(pool.query('SELECT 1'), {
          milliseconds: connectTimeoutMs,
          message: new DatabaseUnavailableError(
            `PostgreSQL did not answer SELECT 1 within ${connectTimeoutMs} ms`,
          ),
        });
      } catch (error) {
        rethrowUnavailable(error, 'ping it');
      }
    },
    disconnect() {
      closing ??= (async () => {
        await prisma?.$disconnect();
        await pool.end();
      })();
      return closing;
    },
  };
}

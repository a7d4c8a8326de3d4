import { UNREACHABLE_SOCKET_CODES } from '@repo/outages';
import pg from 'pg';

/**
 * PostgreSQL could not be used at all: unreachable, refusing connections, timing out, the
 * database missing or the credentials refused. Thrown where this package calls the database
 * (the repository, `ping()`, migrations), so callers can rely on the class: they answer 503
 * (API), postpone the job (worker) or report "down" (health checks) instead of treating it as a
 * bug. The original error is the `cause`.
 */
export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError';
}

/**
 * Whether `error` means "the database is unavailable" rather than "this query is wrong", judged
 * by where it comes from: this package's DatabaseUnavailableError, an error Prisma's client
 * raised (a direct `db.prisma` call), or a PostgreSQL server error (pg's DatabaseError).
 *
 * A socket code (ECONNREFUSED, ENOTFOUND, …) alone says nothing about the database: an HTTP
 * client, a Redis client or a DNS lookup raise the same codes. So it counts only where the error
 * is known to come from a database call — `rethrowUnavailable` — and never when it turns up inside
 * some other error (a webhook delivery that could not connect is not a PostgreSQL outage).
 */
export function isDatabaseUnavailableError(error: unknown): boolean {
  if (error instanceof DatabaseUnavailableError) return true;
  if (isPrismaClientError(error)) return isOutageFromDatabaseCall(error);
  if (error instanceof pg.DatabaseError) return isOutageSqlState(error.code);
  return false;
}

/**
 * For an error that a call to PostgreSQL (through pg or Prisma) has just raised: whether it means
 * the database cannot be used right now. Only the caller of the database knows the error came
 * from there, which is what makes socket codes and pg's connection messages meaningful here.
 */
export function isOutageFromDatabaseCall(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  // follow `cause` and Prisma's meta.driverAdapterError: the telling part is often wrapped
  while (current !== null && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    if (current instanceof DatabaseUnavailableError || isUnavailableShape(current)) return true;
    current = nextInChain(current);
  }
  return false;
}

/**
 * For the error of a database call: rethrows an outage as DatabaseUnavailableError saying what
 * was being done, anything else unchanged.
 */
/** Runs one database operation; an outage becomes DatabaseUnavailableError saying what was being done. */
export async function withOutagesTranslated<T>(
  doing: string,
  operation: () => Promise<T>,
): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    rethrowUnavailable(error, doing);
  }
}

export function rethrowUnavailable(error: unknown, doing: string): never {
  if (error instanceof DatabaseUnavailableError) throw error;
  if (isOutageFromDatabaseCall(error)) {
    throw new DatabaseUnavailableError(
      `The database is unavailable while trying to ${doing}: ${describeCause(error)}`,
      { cause: error },
    );
  }
  throw error;
}

/** Prisma's client errors are named PrismaClient…Error and carry the client's version. */
function isPrismaClientError(error: unknown): error is Error {
  return (
    error instanceof Error &&
    error.name.startsWith('PrismaClient') &&
    typeof (error as { clientVersion?: unknown }).clientVersion === 'string'
  );
}

// Prisma's codes for "cannot get to the database": can't reach (P1001), timed out (P1002),
// database missing (P1003), server closed the connection (P1017), pool timeout (P2024).
const PRISMA_CODES = new Set([
  'P1000',
  'P1001',
  'P1002',
  'P1003',
  'P1010',
  'P1011',
  'P1017',
  'P2024',
]);

// What @prisma/adapter-pg turns connection-level failures into (DriverAdapterError cause kinds).
const ADAPTER_KINDS = new Set([
  'DatabaseNotReachable',
  'DatabaseDoesNotExist',
  'DatabaseAccessDenied',
  'AuthenticationFailed',
  'ConnectionClosed',
  'SocketTimeout',
  'TooManyConnections',
  'TlsConnectionError',
]);

// SQLSTATEs: connection exceptions (08), insufficient resources (53), operator intervention
// (57: shutdown, cannot connect now, and 57014 — a statement cancelled by statement_timeout,
// which under load is the database not keeping up), invalid authorization (28), database
// missing (3D000).
const SQLSTATE_PREFIXES = ['08', '53', '57', '28'];
const SQLSTATES = new Set(['3D000']);

// pg reports these as plain Errors without a code ('timeout expired' is a single Client's connect
// timeout, which migrations use; the pool's says 'timeout exceeded…').
const PG_MESSAGES = [
  'timeout exceeded when trying to connect',
  'timeout expired',
  'Connection terminated',
  'Query read timeout',
  'Client has encountered a connection error and is not queryable',
  'Cannot use a pool after calling end on the pool',
];

function isOutageSqlState(code: unknown): boolean {
  return (
    typeof code === 'string' &&
    /^[0-9A-Z]{5}$/.test(code) &&
    (SQLSTATES.has(code) || SQLSTATE_PREFIXES.some((prefix) => code.startsWith(prefix)))
  );
}

function isUnavailableShape(error: object): boolean {
  const record = error as Record<string, unknown>;
  const code = typeof record.code === 'string' ? record.code : undefined;
  if (record.name === 'PrismaClientInitializationError') return true;
  if (code !== undefined && (PRISMA_CODES.has(code) || UNREACHABLE_SOCKET_CODES.has(code)))
    return true;
  if (isOutageSqlState(code)) return true;
  if (typeof record.kind === 'string') {
    if (ADAPTER_KINDS.has(record.kind)) return true;
    if (record.kind === 'postgres') return isOutageSqlState(record.code);
  }
  const message = typeof record.message === 'string' ? record.message : '';
  return PG_MESSAGES.some((text) => message.startsWith(text));
}

function nextInChain(error: object): unknown {
  const record = error as { cause?: unknown; meta?: { driverAdapterError?: unknown } };
  return record.meta?.driverAdapterError ?? record.cause;
}

/** Prisma prefixes its messages with the failed invocation; the last line is the reason. */
function describeCause(error: unknown): string {
  const message = error instanceof Error ? error.message.trim() : String(error);
  return message.split('\n').at(-1) || 'unknown error';
}

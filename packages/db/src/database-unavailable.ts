/**
 * PostgreSQL could not be used at all: unreachable, refusing connections, timing out, the
 * database missing or the credentials refused. Callers answer 503 (API) or report "down"
 * (health checks) instead of treating it as a bug. The original error is the `cause`.
 */
export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError';
}

/**
 * Whether `error` means "the database is unavailable" rather than "this query is wrong". Knows
 * this package's DatabaseUnavailableError and the raw shapes underneath it (Prisma client
 * errors, driver-adapter errors, pg and socket errors), so it also works for callers that use
 * `db.prisma` directly.
 */
export function isDatabaseUnavailableError(error: unknown): boolean {
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

/** Rethrows database outages as DatabaseUnavailableError, anything else unchanged. */
export function rethrowUnavailable(error: unknown, doing: string): never {
  if (error instanceof DatabaseUnavailableError) throw error;
  if (isDatabaseUnavailableError(error)) {
    throw new DatabaseUnavailableError(
      `The database is unavailable while trying to ${doing}: ${describeCause(error)}`,
      { cause: error },
    );
  }
  throw error;
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

const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

// SQLSTATEs: connection exceptions (08), insufficient resources (53), operator intervention
// (57: shutdown, cannot connect now, and 57014 — a statement cancelled by statement_timeout,
// which under load is the database not keeping up), invalid authorization (28), database
// missing (3D000).
const SQLSTATE_PREFIXES = ['08', '53', '57', '28'];
const SQLSTATES = new Set(['3D000']);

// pg reports these as plain Errors without a code.
const PG_MESSAGES = [
  'timeout exceeded when trying to connect',
  'Connection terminated',
  'Query read timeout',
  'Client has encountered a connection error and is not queryable',
  'Cannot use a pool after calling end on the pool',
];

function isUnavailableShape(error: object): boolean {
  const record = error as Record<string, unknown>;
  const code = typeof record.code === 'string' ? record.code : undefined;
  if (error.constructor?.name === 'PrismaClientInitializationError') return true;
  if (code !== undefined) {
    if (PRISMA_CODES.has(code) || SOCKET_CODES.has(code) || SQLSTATES.has(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code) && SQLSTATE_PREFIXES.some((p) => code.startsWith(p))) {
      return true;
    }
  }
  if (typeof record.kind === 'string') {
    if (ADAPTER_KINDS.has(record.kind)) return true;
    if (record.kind === 'postgres' && typeof record.code === 'string') {
      return SQLSTATE_PREFIXES.some((p) => (record.code as string).startsWith(p));
    }
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

/**
 * The socket error codes (Node's, on the error a client raises) that mean the server cannot be
 * reached right now: refused, reset, timed out, a name that does not resolve, no route. A code
 * alone does not say which server: ask only about errors known to come from a call to the
 * server in question (an HTTP client raises the same codes).
 */
export const UNREACHABLE_SOCKET_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** True when `error` carries one of UNREACHABLE_SOCKET_CODES as its own `code`. */
export function hasUnreachableSocketCode(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && UNREACHABLE_SOCKET_CODES.has(code);
}

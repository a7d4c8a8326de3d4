import { DependencyUnavailableError } from './problems.ts';

// What ioredis and BullMQ raise when Redis cannot be reached. The producer connection has no
// offline queue, so while Redis is down commands fail at once with one of these instead of
// waiting for a reconnect.
const UNAVAILABLE_MESSAGES = [
  "Stream isn't writeable and enableOfflineQueue options is false",
  'Connection is closed.',
  'Command timed out',
];
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
// Redis answers these while it cannot take writes: loading its data set, a replica, or full
// under maxmemory-policy noeviction. Each passes once Redis (or its operator) recovers.
const UNAVAILABLE_REPLY_PREFIXES = ['LOADING ', 'READONLY ', 'MASTERDOWN ', 'OOM ', 'BUSY '];

export function isRedisUnavailableError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'MaxRetriesPerRequestError' || error.name === 'ConnectionClosedError') {
    return true;
  }
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
  return (
    UNAVAILABLE_MESSAGES.includes(error.message) ||
    UNAVAILABLE_REPLY_PREFIXES.some((prefix) => error.message.startsWith(prefix))
  );
}

/**
 * Runs a Redis operation, turning an outage into a DependencyUnavailableError (503). The time
 * bound matters for a connection that has never been ready: BullMQ then waits for it instead of
 * failing, and a request would hang until its timeout.
 */
export async function callRedis<T>(
  what: string,
  timeoutMs: number,
  operation: () => Promise<T>,
  extensions?: Record<string, unknown>,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const running = operation();
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new DependencyUnavailableError('redis', `Redis did not answer within ${timeoutMs} ms.`, {
            extensions,
          }),
        ),
      timeoutMs,
    );
  });
  // After a timeout nobody awaits `running` any more; its eventual failure is the same outage
  // the timeout already reported, so it is not reported twice (nor left as an unhandled rejection).
  running.catch(() => undefined);
  try {
    return await Promise.race([running, timeout]);
  } catch (error) {
    if (error instanceof DependencyUnavailableError || !isRedisUnavailableError(error)) throw error;
    throw new DependencyUnavailableError('redis', `Redis is unavailable while trying to ${what}.`, {
      cause: error,
      extensions,
    });
  } finally {
    clearTimeout(timer);
  }
}

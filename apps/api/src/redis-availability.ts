import { isRedisUnavailableError } from '@repo/jobs';
import pTimeout from 'p-timeout';
import { DependencyUnavailableError } from './problems.ts';

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
  try {
    return await pTimeout(operation(), {
      milliseconds: timeoutMs,
      // built only when the time runs out: an error built for every call (as `message` would
      // be) captures a stack trace on every request that touches Redis
      fallback: () => {
        throw new DependencyUnavailableError(
          'redis',
          `Redis did not answer within ${timeoutMs} ms.`,
          { extensions },
        );
      },
    });
  } catch (error) {
    if (error instanceof DependencyUnavailableError || !isRedisUnavailableError(error)) throw error;
    throw new DependencyUnavailableError('redis', `Redis is unavailable while trying to ${what}.`, {
      cause: error,
      extensions,
    });
  }
}

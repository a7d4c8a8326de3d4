import { isRedisUnavailableError } from '@repo/jobs';
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

import { describe, expect, it } from 'vitest';
import { DependencyUnavailableError } from './problems.ts';
import { callRedis } from './redis-availability.ts';

describe('callRedis', () => {
  it('returns what the operation returns', async () => {
    await expect(callRedis('read', 1_000, async () => 42)).resolves.toBe(42);
  });

  it('turns a connection failure into a 503 for Redis, keeping the cause', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
      code: 'ECONNREFUSED',
    });
    const error = await callRedis('add a job', 1_000, () => Promise.reject(refused), {
      jobId: 'j1',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect(error).toMatchObject({
      status: 503,
      slug: 'queue-unavailable',
      cause: refused,
      extensions: { jobId: 'j1' },
    });
  });

  it('gives up after the timeout, and the late failure is not an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const error = await callRedis(
        'add a job',
        50,
        () =>
          new Promise((_, reject) =>
            setTimeout(() => reject(new Error('Connection is closed.')), 100),
          ),
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DependencyUnavailableError);
      // the timeout answered, not the rejection at 100 ms (timers run late on a busy machine, so
      // the message, not the clock, says which came first)
      expect((error as Error).message).toBe('Redis did not answer within 50 ms.');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('lets errors that are not about availability through unchanged', async () => {
    const bug = new TypeError('x is not a function');
    await expect(callRedis('read', 1_000, () => Promise.reject(bug))).rejects.toBe(bug);
  });
});

import {
  createOwnRedis,
  freePort,
  READY_DEADLINE_MS,
  readinessOnceStarted,
  type ServiceProcess,
} from '@repo/testing';
import { expect } from 'vitest';

/**
 * Runs an app on a Redis that may evict keys (a redis-server of the test's own, allkeys-lru) and
 * checks what every app does there: it starts but stays unready, its eviction check down with
 * every other check ok, says why in its log, and still stops cleanly. `start` runs the app with
 * that REDIS_URL and its health answering on 127.0.0.1:`port`.
 */
export async function expectUnreadyOnEvictingRedis(options: {
  start(redisUrl: string, port: number): ServiceProcess;
  /** The app's other readiness checks, which stay ok (e.g. database, redis). */
  okChecks: readonly string[];
}): Promise<void> {
  const evicting = await createOwnRedis(['--maxmemory-policy', 'allkeys-lru']);
  try {
    const port = await freePort();
    const app = options.start(evicting.url, port);
    const answer = await readinessOnceStarted(
      `http://127.0.0.1:${port}/health/ready`,
      READY_DEADLINE_MS,
    );
    expect(answer).toMatchObject({
      status: 503,
      body: {
        status: 'down',
        checks: {
          ...Object.fromEntries(options.okChecks.map((check) => [check, { status: 'ok' }])),
          redis_eviction_policy: { status: 'down', error: 'RedisEvictionPolicyError' },
        },
      },
    });
    const logged = await app.waitForLog((line) => line.msg === 'health check failed');
    expect(logged).toMatchObject({
      check: 'redis_eviction_policy',
      err: { message: expect.stringContaining("Redis's maxmemory-policy is allkeys-lru") },
    });
    expect(await app.stop()).toBe(0);
  } finally {
    await evicting.destroy();
  }
}

import type { RedisConfig } from '@repo/config';
import { Redis } from 'ioredis';

/**
 * - `worker`: BullMQ workers block on Redis and must retry forever (maxRetriesPerRequest: null,
 *   which BullMQ requires), so a Redis restart only pauses them.
 * - `producer`: the API must fail fast: no offline queue and one retry, so a Redis outage becomes
 *   a 503 within a second instead of requests hanging until their timeout.
 */
export type RedisRole = 'worker' | 'producer';

export function createRedisConnection(
  config: RedisConfig,
  role: RedisRole,
  connectionName: string,
): Redis {
  return new Redis(config.REDIS_URL.reveal(), {
    connectionName,
    // 0 resolves IPv6 and IPv4 alike: Railway's private network is IPv6-only
    family: config.REDIS_FAMILY,
    connectTimeout: 5_000,
    ...(role === 'worker'
      ? { maxRetriesPerRequest: null, enableOfflineQueue: true }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false }),
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
}

/** A bounded PING for health checks. */
export async function pingRedis(redis: Redis): Promise<void> {
  const reply = await redis.ping();
  if (reply !== 'PONG') throw new Error(`unexpected PING reply: ${reply}`);
}

import type { Redis } from 'ioredis';
import { pingRedis } from './redis-connection.ts';
import { checkRedisEvictionPolicy } from './redis-eviction-policy.ts';

/** One readiness check, in the shape @repo/health's createHealth takes. */
export interface DependencyCheck {
  name: string;
  run(): Promise<unknown>;
}

/**
 * The readiness checks of a process that uses the job queue, under the names the /health report
 * shows: Redis answers, and it may not evict BullMQ's keys.
 */
export function redisHealthChecks(redis: Redis): DependencyCheck[] {
  return [
    { name: 'redis', run: () => pingRedis(redis) },
    { name: 'redis_eviction_policy', run: () => checkRedisEvictionPolicy(redis) },
  ];
}

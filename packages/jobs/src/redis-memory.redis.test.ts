import { TEST_REDIS_URL } from '@repo/testing';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { readRedisMemory } from './redis-memory.ts';

describe('readRedisMemory (real Redis)', () => {
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true });
  afterAll(() => redis.quit());

  it('reads used memory, the limit and the eviction policy from INFO memory', async () => {
    const memory = await readRedisMemory(redis);
    expect(memory.usedBytes).toBeGreaterThan(0);
    expect(Number.isInteger(memory.maxBytes) && memory.maxBytes >= 0).toBe(true);
    const [, policy] = (await redis.config('GET', 'maxmemory-policy')) as [string, string];
    expect(memory.policy).toBe(policy);
  });
});

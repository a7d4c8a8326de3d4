import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createTestRedisPrefix } from './redis.ts';
import { TEST_REDIS_URL } from './services.ts';

describe('createTestRedisPrefix (real Redis)', () => {
  it('gives each caller its own prefix and removes only its keys', async () => {
    const a = createTestRedisPrefix('a');
    const b = createTestRedisPrefix('b');
    expect(a.prefix).not.toBe(b.prefix);
    const redis = new Redis(TEST_REDIS_URL);
    await redis.set(`${a.prefix}:k`, '1');
    await redis.set(`${b.prefix}:k`, '1');
    await a.cleanup();
    expect(await redis.exists(`${a.prefix}:k`)).toBe(0);
    expect(await redis.exists(`${b.prefix}:k`)).toBe(1);
    await b.cleanup();
    redis.disconnect();
  });
});

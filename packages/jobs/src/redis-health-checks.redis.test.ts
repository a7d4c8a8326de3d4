import { createOwnRedis, type OwnRedis } from '@repo/testing';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisEvictionPolicyError } from './redis-eviction-policy.ts';
import { redisHealthChecks } from './redis-health-checks.ts';

// Redis servers of the test's own: the shared one's configuration is not this test's to change.
describe('redisHealthChecks (own redis-server per configuration)', { timeout: 60_000 }, () => {
  const servers: OwnRedis[] = [];
  const clients: Redis[] = [];
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    for (const server of servers) await server.destroy();
  });

  async function checksOn(config: string[]) {
    const server = await createOwnRedis(config);
    servers.push(server);
    const client = new Redis(server.url, { maxRetriesPerRequest: 1 });
    clients.push(client);
    return Object.fromEntries(redisHealthChecks(client).map((check) => [check.name, check.run]));
  }

  it('checks that Redis answers and keeps its keys, under the names /health reports', async () => {
    const checks = await checksOn(['--maxmemory-policy', 'noeviction']);
    expect(Object.keys(checks)).toEqual(['redis', 'redis_eviction_policy']);
    await expect(checks.redis?.()).resolves.toBeUndefined();
    await expect(checks.redis_eviction_policy?.()).resolves.toBeUndefined();
  });

  it('fails the eviction check, not the ping, on a Redis that may evict keys', async () => {
    const checks = await checksOn(['--maxmemory-policy', 'allkeys-lru']);
    await expect(checks.redis?.()).resolves.toBeUndefined();
    await expect(checks.redis_eviction_policy?.()).rejects.toBeInstanceOf(RedisEvictionPolicyError);
  });
});

import { createOwnRedis, freePort, type OwnRedis } from '@repo/testing';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { checkRedisEvictionPolicy, RedisEvictionPolicyError } from './redis-eviction-policy.ts';

// Redis servers of the test's own: the shared one's configuration is not this test's to change.
describe('checkRedisEvictionPolicy (own redis-server per configuration)', {
  timeout: 60_000,
}, () => {
  const servers: OwnRedis[] = [];
  const clients: Redis[] = [];
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await Promise.all(servers.map((server) => server.destroy()));
  });

  async function connect(config: string[], options: { username?: string } = {}) {
    const server = await createOwnRedis(config);
    servers.push(server);
    const client = new Redis(server.url, { maxRetriesPerRequest: 1, ...options });
    clients.push(client);
    return client;
  }
  const rejection = (promise: Promise<unknown>) =>
    promise.then(
      () => expect.unreachable('the check should fail'),
      (error: unknown) => error,
    );

  it('passes for noeviction', async () => {
    const redis = await connect(['--maxmemory-policy', 'noeviction']);
    await expect(checkRedisEvictionPolicy(redis)).resolves.toBeUndefined();
  });

  it('fails for an evicting policy, naming it and the fix', async () => {
    const redis = await connect(['--maxmemory-policy', 'allkeys-lru']);
    const error = await rejection(checkRedisEvictionPolicy(redis));
    expect(error).toBeInstanceOf(RedisEvictionPolicyError);
    expect(error).toMatchObject({ policy: 'allkeys-lru' });
    expect((error as Error).message).toMatch(
      /^Redis's maxmemory-policy is allkeys-lru, so under memory pressure it evicts keys .* Set maxmemory-policy to noeviction/,
    );
  });

  describe('when CONFIG is refused, as managed Redis often does', () => {
    it('reads INFO memory instead (CONFIG renamed away)', async () => {
      const evicting = await connect([
        '--maxmemory-policy',
        'volatile-lru',
        '--rename-command',
        'CONFIG',
        '',
      ]);
      await expect(evicting.config('GET', 'maxmemory-policy')).rejects.toThrow(/unknown command/);
      expect(await rejection(checkRedisEvictionPolicy(evicting))).toMatchObject({
        name: 'RedisEvictionPolicyError',
        policy: 'volatile-lru',
      });

      const fine = await connect([
        '--maxmemory-policy',
        'noeviction',
        '--rename-command',
        'CONFIG',
        '',
      ]);
      await expect(checkRedisEvictionPolicy(fine)).resolves.toBeUndefined();
    });

    it('reads INFO memory instead (CONFIG denied to the user by an ACL)', async () => {
      const redis = await connect(
        [
          '--maxmemory-policy',
          'allkeys-lfu',
          '--user',
          'app',
          'on',
          'nopass',
          '~*',
          '&*',
          '+@all',
          '-config',
        ],
        { username: 'app' },
      );
      await expect(redis.config('GET', 'maxmemory-policy')).rejects.toThrow(/NOPERM/);
      expect(await rejection(checkRedisEvictionPolicy(redis))).toMatchObject({
        name: 'RedisEvictionPolicyError',
        policy: 'allkeys-lfu',
      });
    });

    it('fails when INFO is denied too: it cannot tell, so it does not pass', async () => {
      const redis = await connect(
        [
          '--maxmemory-policy',
          'noeviction',
          '--user',
          'app',
          'on',
          'nopass',
          '~*',
          '&*',
          '+@all',
          '-config',
          '-info',
        ],
        { username: 'app' },
      );
      const error = await rejection(checkRedisEvictionPolicy(redis));
      expect(error).toBeInstanceOf(RedisEvictionPolicyError);
      expect(error).toMatchObject({ policy: null });
      expect((error as Error).message).toMatch(
        /^Cannot tell whether Redis may evict keys: CONFIG GET was refused \(NOPERM .*\), and so was INFO \(NOPERM .*\)\. BullMQ needs maxmemory-policy noeviction/,
      );
    });
  });

  it('passes a connection failure on as it is: the redis check reports those', async () => {
    const redis = new Redis(`redis://127.0.0.1:${await freePort()}`, {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      lazyConnect: true,
    });
    clients.push(redis);
    redis.on('error', () => {});
    const error = await rejection(checkRedisEvictionPolicy(redis));
    expect(error).not.toBeInstanceOf(RedisEvictionPolicyError);
  });
});

import { createJobQueue, listSchedules } from '@repo/jobs';
import { expectUnreadyOnEvictingRedis } from '@repo/jobs/testing';
import {
  createTestRedisPrefix,
  freePort,
  type ServiceProcess,
  startServiceProcess,
  TEST_REDIS_URL,
  type TestRedisPrefix,
} from '@repo/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schedules } from './schedules.ts';

const entry = new URL('./main.ts', import.meta.url).pathname;

describe('beat (real processes, real Redis)', () => {
  let keys: TestRedisPrefix;
  let redis: Redis;
  const beats: ServiceProcess[] = [];

  beforeAll(() => {
    keys = createTestRedisPrefix('beat');
    redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    await Promise.all(beats.map((b) => b.stop('SIGKILL')));
    redis.disconnect();
    await keys.cleanup();
  });

  async function startBeat() {
    const port = await freePort();
    const beat = startServiceProcess(entry, {
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: keys.prefix,
      HEALTH_PORT: String(port),
      HEALTH_HOST: '127.0.0.1',
    });
    beats.push(beat);
    return { beat, port };
  }

  it('two beats started at once register each schedule once and remove undeclared ones', {
    timeout: 60_000,
  }, async () => {
    const queue = createJobQueue(redis, keys.prefix);
    // a scheduler left behind by a declaration that no longer exists
    await queue.upsertJobScheduler(
      'legacy.cleanup',
      { every: 60_000 },
      { name: 'maintenance.prune', data: {} },
    );

    const [a, b] = await Promise.all([startBeat(), startBeat()]);
    await Promise.all([
      a.beat.waitForHttp(`http://127.0.0.1:${a.port}/health/ready`),
      b.beat.waitForHttp(`http://127.0.0.1:${b.port}/health/ready`),
    ]);

    const registered = await listSchedules(queue);
    expect(registered.map((s) => s.id).sort()).toEqual(schedules.map((s) => s.id).sort());
    // exactly one upcoming job per declared scheduler: no duplicate runs
    const upcoming = await queue.getJobs(['delayed', 'waiting']);
    const declared = new Set(schedules.map((s) => s.id));
    const perScheduler = upcoming
      .map((j) => j.repeatJobKey)
      .filter((key): key is string => key !== undefined && declared.has(key));
    expect(perScheduler.sort()).toEqual([...declared].sort());

    const metrics = await (await fetch(`http://127.0.0.1:${a.port}/metrics`)).text();
    expect(metrics).toMatch(/beat_schedule_syncs_total\{result="ok"\} 1/);

    expect(await Promise.all([a.beat.stop(), b.beat.stop()])).toEqual([0, 0]);
    // both left on their way out: an older beat still running would take over at once
    expect(await redis.zcard(`${keys.prefix}:beat:instances`)).toBe(0);
    // the schedules live in Redis: they stay when beat is gone
    expect((await listSchedules(queue)).length).toBe(schedules.length);
    await queue.close();
  });

  it('is not ready while Redis may evict keys, and says why', async () => {
    await expectUnreadyOnEvictingRedis({
      start: (redisUrl, port) => {
        const beat = startServiceProcess(entry, {
          REDIS_URL: redisUrl,
          QUEUE_PREFIX: keys.prefix,
          HEALTH_PORT: String(port),
          HEALTH_HOST: '127.0.0.1',
        });
        beats.push(beat);
        return beat;
      },
      okChecks: ['redis'],
    });
  });
});

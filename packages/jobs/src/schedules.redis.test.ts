import { createTestRedisPrefix, TEST_REDIS_URL, type TestRedisPrefix } from '@repo/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobQueue, type JobQueue } from './queue.ts';
import { defineSchedule, listSchedules, syncSchedules } from './schedules.ts';

const reconcile = defineSchedule({
  id: 'reconcile',
  type: 'maintenance.reconcile',
  payload: {},
  every: 60_000,
});
const prune = defineSchedule({
  id: 'prune',
  type: 'maintenance.prune',
  payload: {},
  pattern: '15 3 * * *',
  tz: 'Europe/Berlin',
});

describe('syncSchedules (real Redis)', () => {
  let keys: TestRedisPrefix;
  const connections: Redis[] = [];
  const queues: JobQueue[] = [];

  function replica() {
    const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    const queue = createJobQueue(redis, keys.prefix);
    connections.push(redis);
    queues.push(queue);
    return { redis, queue };
  }

  beforeAll(() => {
    keys = createTestRedisPrefix('schedules');
  });
  afterAll(async () => {
    await Promise.all(queues.map((q) => q.close()));
    for (const c of connections) c.disconnect();
    await keys.cleanup();
  });

  it('two replicas syncing at once leave each schedule exactly once', async () => {
    const a = replica();
    const b = replica();
    const [ra, rb] = await Promise.all([
      syncSchedules(a.queue, [reconcile, prune], { redis: a.redis, prefix: keys.prefix }),
      syncSchedules(b.queue, [reconcile, prune], { redis: b.redis, prefix: keys.prefix }),
    ]);
    expect(ra.upserted).toEqual(['reconcile', 'prune']);
    expect(rb.upserted).toEqual(['reconcile', 'prune']);
    const schedules = await listSchedules(a.queue);
    expect(schedules.map((s) => s.id).sort()).toEqual(['prune', 'reconcile']);
    // each scheduler has exactly one upcoming job
    const delayed = await a.queue.getJobs(['delayed', 'waiting']);
    expect(delayed.map((j) => j.name).sort()).toEqual([
      'maintenance.prune',
      'maintenance.reconcile',
    ]);
    const pruneInfo = schedules.find((s) => s.id === 'prune');
    expect(pruneInfo).toMatchObject({
      type: 'maintenance.prune',
      pattern: '15 3 * * *',
      tz: 'Europe/Berlin',
    });
    expect(pruneInfo?.nextRunAt?.getTime()).toBeGreaterThan(Date.now());
  });

  it('removes a scheduler whose declaration is gone', async () => {
    const { queue, redis } = replica();
    const result = await syncSchedules(queue, [reconcile], { redis, prefix: keys.prefix });
    expect(result.removed).toEqual(['prune']);
    expect((await listSchedules(queue)).map((s) => s.id)).toEqual(['reconcile']);
  });

  it('refuses duplicate ids and invalid payloads before touching Redis', async () => {
    const { queue, redis } = replica();
    await expect(
      syncSchedules(queue, [reconcile, reconcile], { redis, prefix: keys.prefix }),
    ).rejects.toThrow('schedule "reconcile" is declared twice');
    await expect(
      syncSchedules(queue, [{ ...prune, payload: { extra: 1 } as never }], {
        redis,
        prefix: keys.prefix,
      }),
    ).rejects.toThrow('Invalid payload for job type "maintenance.prune"');
    expect((await listSchedules(queue)).map((s) => s.id)).toEqual(['reconcile']);
  });
});

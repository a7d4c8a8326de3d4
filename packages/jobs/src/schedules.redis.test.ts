import { randomUUID } from 'node:crypto';
import { createTestRedisPrefix, TEST_REDIS_URL, type TestRedisPrefix } from '@repo/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobQueue, type JobQueue } from './queue.ts';
import {
  defineSchedule,
  leaveSchedules,
  listSchedules,
  type ScheduleDeclaration,
  syncSchedules,
} from './schedules.ts';

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

describe('syncSchedules (real Redis)', { timeout: 30_000 }, () => {
  let keys: TestRedisPrefix;
  const connections: Redis[] = [];
  const queues: JobQueue[] = [];

  /** One beat process: its own connection and instance id. */
  function replica(instanceTtlMs = 60_000) {
    const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    const queue = createJobQueue(redis, keys.prefix);
    connections.push(redis);
    queues.push(queue);
    const owner = { redis, prefix: keys.prefix, instanceId: randomUUID(), instanceTtlMs };
    return {
      redis,
      queue,
      owner,
      sync: (declarations: readonly ScheduleDeclaration[]) =>
        syncSchedules(queue, declarations, owner),
      leave: () => leaveSchedules(owner),
    };
  }
  const ids = async (queue: JobQueue) => (await listSchedules(queue)).map((s) => s.id).sort();

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
    const [ra, rb] = await Promise.all([a.sync([reconcile, prune]), b.sync([reconcile, prune])]);
    // one declaration list, one generation: both replicas sync
    expect(ra.generation).toBe(rb.generation);
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
    await Promise.all([a.leave(), b.leave()]);
  });

  it('removes a scheduler whose declaration is gone', async () => {
    const { queue, sync, leave } = replica();
    const result = await sync([reconcile]);
    expect(result.removed).toEqual(['prune']);
    await leave();
    expect((await listSchedules(queue)).map((s) => s.id)).toEqual(['reconcile']);
  });

  it('refuses duplicate ids and invalid payloads before touching Redis', async () => {
    const { queue, sync } = replica();
    await expect(sync([reconcile, reconcile])).rejects.toThrow(
      'schedule "reconcile" is declared twice',
    );
    await expect(sync([{ ...prune, payload: { extra: 1 } as never }])).rejects.toThrow(
      'Invalid payload for job type "maintenance.prune"',
    );
    expect((await listSchedules(queue)).map((s) => s.id)).toEqual(['reconcile']);
  });

  describe('two versions of beat running at once (a deploy)', () => {
    const hourly = defineSchedule({
      id: 'hourly-reconcile',
      type: 'maintenance.reconcile',
      payload: {},
      pattern: '0 * * * *',
    });
    const oldList = [reconcile, prune];
    const newList = [reconcile, hourly];

    it('an older list never removes what the newer one declares, and the newer removes what it dropped', async () => {
      const older = replica();
      const newer = replica();
      const first = await older.sync(oldList);
      expect(await ids(older.queue)).toEqual(['prune', 'reconcile']);

      // the new version starts while the old one still runs
      const taken = await newer.sync(newList);
      expect(taken.generation).toBeGreaterThan(first.generation);
      expect(taken.removed).toEqual(['prune']);
      expect(await ids(older.queue)).toEqual(['hourly-reconcile', 'reconcile']);

      // the old one's next syncs change nothing: hourly stays, prune stays gone
      for (let i = 0; i < 2; i += 1) {
        const resync = await older.sync(oldList);
        expect(resync).toMatchObject({ upserted: [], removed: [], supersededBy: taken.generation });
        expect(await ids(older.queue)).toEqual(['hourly-reconcile', 'reconcile']);
      }
      // the newer one keeps syncing as before
      expect((await newer.sync(newList)).upserted).toEqual(['reconcile', 'hourly-reconcile']);

      // the new version is rolled back: its beat leaves, and the old list takes over
      await newer.leave();
      const rolledBack = await older.sync(oldList);
      expect(rolledBack.supersededBy).toBeUndefined();
      expect(rolledBack.removed).toEqual(['hourly-reconcile']);
      expect(await ids(older.queue)).toEqual(['prune', 'reconcile']);

      // deployed again later, the new list is the newest once more
      const redeployed = await newer.sync(newList);
      expect(redeployed.generation).toBeGreaterThan(first.generation);
      expect(redeployed.removed).toEqual(['prune']);
      expect((await older.sync(oldList)).supersededBy).toBe(redeployed.generation);
      await Promise.all([older.leave(), newer.leave()]);
    });

    it('a newer beat that died without leaving stops counting once its TTL has run out', async () => {
      const older = replica();
      const crashed = replica(300);
      await older.sync(oldList);
      await crashed.sync(newList);
      expect((await older.sync(oldList)).supersededBy).toBeDefined();
      expect(await ids(older.queue)).toEqual(['hourly-reconcile', 'reconcile']);

      // no leave(): the process was killed; its registration expires on Redis's clock
      await new Promise((resolve) => setTimeout(resolve, 500));
      const after = await older.sync(oldList);
      expect(after.supersededBy).toBeUndefined();
      expect(after.removed).toEqual(['hourly-reconcile']);
      expect(await ids(older.queue)).toEqual(['prune', 'reconcile']);
      await older.leave();
    });

    it('a second replica of the newer list, started later, does not count as newer than the first', async () => {
      const newer = replica();
      const newerTwin = replica();
      const older = replica();
      await older.sync(oldList);
      const a = await newer.sync(newList);
      const b = await newerTwin.sync(newList);
      expect(b.generation).toBe(a.generation);
      expect(b.supersededBy).toBeUndefined();
      // one replica of the newer list leaving is not a rollback
      await newer.leave();
      expect((await older.sync(oldList)).supersededBy).toBe(a.generation);
      expect(await ids(older.queue)).toEqual(['hourly-reconcile', 'reconcile']);
      await Promise.all([older.leave(), newerTwin.leave()]);
    });
  });
});

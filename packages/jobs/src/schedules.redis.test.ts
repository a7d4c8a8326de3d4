import { randomUUID } from 'node:crypto';
import { createTestRedisPrefix, TEST_REDIS_URL, type TestRedisPrefix } from '@repo/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queuePriority } from './priority.ts';
import { createJobQueue, type JobQueue } from './queue.ts';
import {
  type DefinedSchedule,
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
    const delayed = await a.queue.getJobs(['delayed', 'waiting', 'prioritized']);
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
  describe('defined schedules (loadDefined)', () => {
    const nightly = (revision: number, paused = false): DefinedSchedule => ({
      declaration: defineSchedule({
        id: 'api.nightly',
        type: 'webhook.deliver',
        payload: { url: 'https://example.com/hook', body: { revision } },
        pattern: '30 2 * * *',
        tz: 'Europe/Berlin',
      }),
      revision,
      paused,
    });
    /** A sync whose read saw `defined`, and every write up to `revision` (default: their newest). */
    const syncWith = (
      beat: ReturnType<typeof replica>,
      defined: readonly DefinedSchedule[],
      revision = Math.max(0, ...defined.map((schedule) => schedule.revision)),
    ) =>
      syncSchedules(beat.queue, [reconcile], {
        ...beat.owner,
        loadDefined: async () => ({ schedules: defined, revision }),
      });
    const payloadOf = async (queue: JobQueue, id: string) =>
      (await queue.getJobScheduler(id))?.template?.data;

    it('applies them beside the declarations, removes paused and deleted ones, and never applies an older definition', async () => {
      await keys.cleanup();
      const beat = replica();
      expect(await syncWith(beat, [nightly(5)])).toMatchObject({
        upserted: ['reconcile', 'api.nightly'],
        removed: [],
        skipped: [],
      });
      expect(await ids(beat.queue)).toEqual(['api.nightly', 'reconcile']);
      expect((await listSchedules(beat.queue)).find((s) => s.id === 'api.nightly')).toMatchObject({
        type: 'webhook.deliver',
        pattern: '30 2 * * *',
        tz: 'Europe/Berlin',
      });
      // its runs wait among API jobs at the default priority rather than ahead of them all
      expect((await beat.queue.getJobScheduler('api.nightly'))?.template?.opts?.priority).toBe(
        queuePriority(undefined),
      );

      // a replica that read before the change (revision 4) does not revert revision 5
      expect(await syncWith(beat, [nightly(4)])).toMatchObject({
        skipped: [{ id: 'api.nightly', reason: 'older-than-applied' }],
      });
      expect(await payloadOf(beat.queue, 'api.nightly')).toEqual({
        url: 'https://example.com/hook',
        body: { revision: 5 },
      });

      // paused: out of Redis, and a read from before the pause does not bring it back
      expect(await syncWith(beat, [nightly(6, true)])).toMatchObject({ removed: ['api.nightly'] });
      expect(await ids(beat.queue)).toEqual(['reconcile']);
      await syncWith(beat, [nightly(5)]);
      expect(await ids(beat.queue)).toEqual(['reconcile']);
      // resumed (a newer write): back
      await syncWith(beat, [nightly(7)]);
      expect(await ids(beat.queue)).toEqual(['api.nightly', 'reconcile']);

      // deleted: removed, and a read from before the delete (revision 7) does not bring it back
      expect(await syncWith(beat, [], 8)).toMatchObject({ removed: ['api.nightly'] });
      expect(await syncWith(beat, [nightly(7)])).toMatchObject({
        skipped: [{ id: 'api.nightly', reason: 'older-than-applied' }],
      });
      expect(await ids(beat.queue)).toEqual(['reconcile']);
      // created again with the same key: a newer revision
      await syncWith(beat, [nightly(9)]);
      expect(await ids(beat.queue)).toEqual(['api.nightly', 'reconcile']);
    });

    it('leaves a scheduler applied from a newer definition than its read saw', async () => {
      await keys.cleanup();
      const fast = replica();
      const slow = replica();
      await syncWith(fast, [nightly(9)]);
      // the slow replica read the table before the schedule existed (its newest revision: 3)
      const other = { ...nightly(3), declaration: { ...nightly(3).declaration, id: 'api.other' } };
      expect(await syncWith(slow, [other])).toMatchObject({
        skipped: [{ id: 'api.nightly', reason: 'applied-after-read' }],
      });
      expect(await ids(slow.queue)).toEqual(['api.nightly', 'api.other', 'reconcile']);
    });

    it('leaves a key declared in code to the declaration and skips one that is not valid', async () => {
      await keys.cleanup();
      const beat = replica();
      const shadowing: DefinedSchedule = {
        declaration: defineSchedule({
          id: 'reconcile',
          type: 'maintenance.prune',
          payload: {},
          every: 5_000,
        }),
        revision: 1,
        paused: false,
      };
      const broken: DefinedSchedule = {
        declaration: {
          ...nightly(2).declaration,
          id: 'api.broken',
          payload: { url: 42, body: null } as unknown as { url: string; body: null },
        },
        revision: 2,
        paused: false,
      };
      const result = await syncWith(beat, [shadowing, broken]);
      expect(result.skipped).toEqual([
        { id: 'reconcile', reason: 'declared-in-code' },
        { id: 'api.broken', reason: 'invalid', detail: expect.stringContaining('url') },
      ]);
      expect(await listSchedules(beat.queue)).toEqual([
        expect.objectContaining({ id: 'reconcile', type: 'maintenance.reconcile', every: 60_000 }),
      ]);
    });

    it('does not count as the same list as a beat with the same declarations that applies none', async () => {
      await keys.cleanup();
      const older = replica();
      const newer = replica();
      await older.sync([reconcile]);
      const applied = await syncWith(newer, [nightly(1)]);
      expect(applied.supersededBy).toBeUndefined();
      // the older build (no defined schedules) is superseded: it does not remove api.nightly
      expect(await older.sync([reconcile])).toMatchObject({ supersededBy: applied.generation });
      expect(await ids(older.queue)).toEqual(['api.nightly', 'reconcile']);
    });
  });
});

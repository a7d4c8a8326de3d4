import { randomUUID } from 'node:crypto';
import { createTestRedisPrefix, TEST_REDIS_URL, type TestRedisPrefix } from '@repo/testing';
import { type Job, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { enqueueJob } from '../enqueue.ts';
import { createJobQueue, type JobQueue, QUEUE_NAME } from '../queue.ts';
import { splitQueuedJobData } from './concurrency-key.ts';
import { createFairScheduler, type FairScheduler, PARKED_RECHECK_MS } from './fair-scheduler.ts';
import type { ResolvedLimits } from './limits.ts';

const NONE: ResolvedLimits = {
  maxConcurrent: 0,
  maxConcurrentPerKey: 0,
  rateMax: 0,
  rateWindowMs: 0,
};

/**
 * The scripts driven through BullMQ's manual processing: each job is fetched with its lock, as a
 * worker's processor receives it, and admitted or parked by hand, so every step's outcome can be
 * looked at in Redis.
 */
interface Bench {
  queue: JobQueue;
  fair: FairScheduler;
  redis: Redis;
  /** Enqueues a system.echo job with the key; returns its id. */
  add(key: string | null): Promise<string>;
  /** Fetches the next waiting job, locked, as a worker would. */
  fetch(): Promise<{ job: Job; token: string; key: string | null }>;
  /** Fetches the next job and admits it: its id, and whether it may run. */
  fetchAndAdmit(): Promise<{ id: string; admitted: boolean; key: string | null }>;
  state(id: string): Promise<string>;
  clock: { now: number };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function bench(limits: Partial<ResolvedLimits>, label: string): Promise<Bench> {
  const keys: TestRedisPrefix = createTestRedisPrefix(`fair-${label}`);
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const queue = createJobQueue(redis, keys.prefix);
  const worker = new Worker(QUEUE_NAME, null, {
    connection: redis,
    prefix: keys.prefix,
    lockDuration: 30_000,
    autorun: false,
  });
  const clock = { now: Date.now() };
  const fair = createFairScheduler({
    queue,
    connection: redis,
    limits: { 'system.echo': { ...NONE, ...limits } },
    now: () => clock.now,
  });
  cleanups.push(async () => {
    await worker.close(true);
    await queue.close();
    redis.disconnect();
    await keys.cleanup();
  });

  async function fetch() {
    const token = randomUUID();
    const job = await worker.getNextJob(token, { block: false });
    if (!job) throw new Error('no job is waiting');
    return { job, token, key: splitQueuedJobData(job.data).concurrencyKey };
  }
  return {
    queue,
    fair,
    redis,
    clock,
    async add(key) {
      const id = randomUUID();
      await enqueueJob(queue, { id, type: 'system.echo', payload: {}, concurrencyKey: key });
      return id;
    },
    fetch,
    async fetchAndAdmit() {
      const { job, token, key } = await fetch();
      const admitted = await fair.admit(job, token, 'system.echo', key);
      return { id: job.id as string, admitted, key };
    },
    state: async (id) => (await queue.getJob(id))?.getState() ?? 'missing',
  };
}

describe('fair execution scripts (real Redis)', () => {
  it('admits as many jobs of a key as its limit, parks the next without using an attempt, and wakes it when a slot frees', async () => {
    const b = await bench({ maxConcurrentPerKey: 2 }, 'per-key');
    const [a1, a2, a3, b1] = [
      await b.add('A'),
      await b.add('A'),
      await b.add('A'),
      await b.add('B'),
    ];

    expect(await b.fetchAndAdmit()).toEqual({ id: a1, admitted: true, key: 'A' });
    expect(await b.fetchAndAdmit()).toEqual({ id: a2, admitted: true, key: 'A' });
    expect(await b.fetchAndAdmit()).toEqual({ id: a3, admitted: false, key: 'A' });
    // another key has its own slots
    expect(await b.fetchAndAdmit()).toEqual({ id: b1, admitted: true, key: 'B' });

    expect(await b.state(a3)).toBe('delayed');
    expect(await b.fair.waitingFor(a3)).toBe('concurrency');
    expect((await b.queue.getJob(a3))?.attemptsMade).toBe(0);
    expect(await b.fair.holders('system.echo', 'A')).toBe(2);

    await b.fair.release(a1, 'system.echo', 'A');
    expect(await b.state(a3)).toBe('prioritized');
    expect(await b.fetchAndAdmit()).toEqual({ id: a3, admitted: true, key: 'A' });
    expect(await b.fair.waitingFor(a3)).toBeNull();
    expect(await b.fair.holders('system.echo', 'A')).toBe(2);
  });

  it('gives a type-wide slot to the keys with parked jobs in turn, however many each has parked', async () => {
    const b = await bench({ maxConcurrent: 1 }, 'ring');
    const running = await b.add('X');
    const parkedA = [await b.add('A'), await b.add('A'), await b.add('A')];
    const parkedB = await b.add('B');
    const parkedNoKey = await b.add(null);
    expect((await b.fetchAndAdmit()).admitted).toBe(true);
    for (let i = 0; i < 5; i += 1) expect((await b.fetchAndAdmit()).admitted).toBe(false);

    // each release wakes one job; the woken job takes the slot and in turn releases it
    const order: string[] = [];
    let holder = { id: running, key: 'X' as string | null };
    for (let i = 0; i < 5; i += 1) {
      await b.fair.release(holder.id, 'system.echo', holder.key);
      const next = await b.fetchAndAdmit();
      expect(next.admitted).toBe(true);
      order.push(next.id);
      holder = { id: next.id, key: next.key };
    }
    expect(order).toEqual([parkedA[0], parkedB, parkedNoKey, parkedA[1], parkedA[2]]);
  });

  it('counts a slot only while its job holds its lock: a dead worker’s slot frees when the lock expires', async () => {
    const b = await bench({ maxConcurrentPerKey: 1 }, 'lease');
    const first = await b.add('A');
    const second = await b.add('A');
    expect((await b.fetchAndAdmit()).admitted).toBe(true);
    expect(await b.fair.holders('system.echo', 'A')).toBe(1);
    // the worker holding `first` died: nothing renews its lock, which expires
    await b.redis.del(`${b.queue.toKey(first)}:lock`);
    expect(await b.fair.holders('system.echo', 'A')).toBe(0);
    expect(await b.fetchAndAdmit()).toEqual({ id: second, admitted: true, key: 'A' });
  });

  it('parks the starts past a key’s rate limit, the first one timed to the window’s opening', async () => {
    const b = await bench({ rateMax: 2, rateWindowMs: 1_000 }, 'rate');
    const start = b.clock.now;
    const ids = [await b.add('A'), await b.add('A'), await b.add('A'), await b.add('A')];
    expect((await b.fetchAndAdmit()).admitted).toBe(true);
    b.clock.now = start + 400;
    expect((await b.fetchAndAdmit()).admitted).toBe(true);
    b.clock.now = start + 500;
    expect((await b.fetchAndAdmit()).admitted).toBe(false);
    expect((await b.fetchAndAdmit()).admitted).toBe(false);
    expect(await b.fair.waitingFor(ids[2] as string)).toBe('rateLimit');
    // the first parked job wakes itself when the first start leaves the window; the second waits
    // for it (or its own recheck)
    const third = await b.queue.getJob(ids[2] as string);
    const fourth = await b.queue.getJob(ids[3] as string);
    expect(third?.delay).toBeLessThanOrEqual(1_000);
    expect(fourth?.delay).toBeGreaterThan(PARKED_RECHECK_MS - 1_000);

    // the window opens for one start: the timed job takes it, and hands the timer on to the next
    b.clock.now = start + 1_001;
    await third?.promote();
    expect(await b.fetchAndAdmit()).toEqual({ id: ids[2], admitted: true, key: 'A' });
    expect(await b.state(ids[3] as string)).toBe('prioritized');
    expect(await b.fetchAndAdmit()).toEqual({ id: ids[3], admitted: false, key: 'A' });
    const timed = await b.queue.getJob(ids[3] as string);
    // due when the start at +400 leaves the window
    expect((timed?.timestamp ?? 0) + (timed?.delay ?? 0)).toBeLessThanOrEqual(start + 1_401 + 50);
    b.clock.now = start + 1_401;
    await timed?.promote();
    expect(await b.fetchAndAdmit()).toEqual({ id: ids[3], admitted: true, key: 'A' });
  });

  it('lets a woken job that lost its slot to a newcomer keep its place at the front', async () => {
    const b = await bench({ maxConcurrentPerKey: 1 }, 'front');
    const running = await b.add('A');
    const [p1, p2] = [await b.add('A'), await b.add('A')];
    expect((await b.fetchAndAdmit()).admitted).toBe(true);
    expect((await b.fetchAndAdmit()).admitted).toBe(false);
    expect((await b.fetchAndAdmit()).admitted).toBe(false);
    await b.fair.release(running, 'system.echo', 'A');
    // a newcomer of the key takes the slot before the woken job arrives
    const newcomer = await b.add('A');
    const p1Fetched = await b.fetch(); // p1 was promoted first, so it is ahead in the wait list
    const newcomerFetched = await b.fetch();
    expect(newcomerFetched.job.id).toBe(newcomer);
    expect(await b.fair.admit(newcomerFetched.job, newcomerFetched.token, 'system.echo', 'A')).toBe(
      true,
    );
    expect(await b.fair.admit(p1Fetched.job, p1Fetched.token, 'system.echo', 'A')).toBe(false);
    await b.fair.release(newcomer, 'system.echo', 'A');
    expect(await b.state(p1)).toBe('prioritized');
    expect(await b.state(p2)).toBe('delayed');
  });

  it('forgets a parked job that was removed from the queue, and passes its turn on', async () => {
    const b = await bench({ maxConcurrentPerKey: 1 }, 'removed');
    const running = await b.add('A');
    const removed = await b.add('A');
    const next = await b.add('A');
    expect((await b.fetchAndAdmit()).admitted).toBe(true);
    expect((await b.fetchAndAdmit()).admitted).toBe(false);
    expect((await b.fetchAndAdmit()).admitted).toBe(false);
    await (await b.queue.getJob(removed))?.remove();
    await b.fair.release(running, 'system.echo', 'A');
    expect(await b.fair.waitingFor(removed)).toBeNull();
    expect(await b.state(next)).toBe('prioritized');
    expect(await b.fetchAndAdmit()).toEqual({ id: next, admitted: true, key: 'A' });
  });
});

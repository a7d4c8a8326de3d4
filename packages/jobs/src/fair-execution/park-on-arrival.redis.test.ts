import { randomUUID } from 'node:crypto';
import { createTestRedisPrefix, TEST_REDIS_URL } from '@repo/testing';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createJobEnqueuer, type EnqueueJob, enqueueJob } from '../enqueue.ts';
import { createJobQueue, type JobQueue, QUEUE_NAME } from '../queue.ts';
import { splitQueuedJobData } from './concurrency-key.ts';
import { createFairScheduler, type FairScheduler, PARKED_RECHECK_MS } from './fair-scheduler.ts';
import type { LimitsByType, ResolvedLimits } from './limits.ts';

const NONE: ResolvedLimits = {
  maxConcurrent: 0,
  maxConcurrentPerKey: 0,
  rateMax: 0,
  rateWindowMs: 0,
};

/**
 * Park on arrival through the enqueuer the API uses, with jobs fetched and admitted by hand as a
 * worker's processor would, so that where each job went can be looked at in Redis.
 */
interface Bench {
  queue: JobQueue;
  redis: Redis;
  fair: FairScheduler;
  /** The API's batched enqueuer, with park on arrival under the same limits. */
  enqueue: EnqueueJob;
  /** Enqueues system.echo jobs of the key concurrently (they share addBulk calls); their ids. */
  submit(key: string | null, count: number): Promise<string[]>;
  fetchAndAdmit(): Promise<{ id: string; admitted: boolean }>;
  state(id: string): Promise<string>;
  parkList(key: string): Promise<string[]>;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function bench(limits: Partial<ResolvedLimits>, label: string): Promise<Bench> {
  const keys = createTestRedisPrefix(`arrival-${label}`);
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const queue = createJobQueue(redis, keys.prefix);
  const worker = new Worker(QUEUE_NAME, null, {
    connection: redis,
    prefix: keys.prefix,
    lockDuration: 30_000,
    autorun: false,
  });
  const byType: LimitsByType = { 'system.echo': { ...NONE, ...limits } };
  const fair = createFairScheduler({ queue, connection: redis, limits: byType });
  const enqueue = createJobEnqueuer(queue, { arrival: { limits: byType, connection: redis } });
  cleanups.push(async () => {
    await worker.close(true);
    await queue.close();
    redis.disconnect();
    await keys.cleanup();
  });
  return {
    queue,
    redis,
    fair,
    enqueue,
    async submit(key, count) {
      const ids = Array.from({ length: count }, () => randomUUID());
      await Promise.all(
        ids.map((id) => enqueue({ id, type: 'system.echo', payload: {}, concurrencyKey: key })),
      );
      return ids;
    },
    async fetchAndAdmit() {
      const token = randomUUID();
      const job = await worker.getNextJob(token, { block: false });
      if (!job) throw new Error('no job is waiting');
      const { concurrencyKey } = splitQueuedJobData(job.data);
      const admitted = await fair.admit(job, token, 'system.echo', concurrencyKey);
      return { id: job.id as string, admitted };
    },
    state: async (id) => (await queue.getJob(id))?.getState() ?? 'missing',
    parkList: (key) => redis.lrange(`${queue.toKey('fair')}:park:system.echo:${key}`, 0, -1),
  };
}

describe('park on arrival (real Redis)', () => {
  it('sends the jobs of a key under its limit straight to wait, and never decides for a job without a key', async () => {
    const b = await bench({ maxConcurrentPerKey: 2 }, 'under');
    const [first] = await b.submit('A', 1);
    const [noKey] = await b.submit(null, 1);
    expect(await b.state(first as string)).toBe('prioritized');
    expect(await b.state(noKey as string)).toBe('prioritized');
    expect(await b.fair.waitingFor(first as string)).toBeNull();
    expect(await b.parkList('A')).toEqual([]);
    // a job without a key, or of a type without a limit per key, costs the enqueuer no call
    expect(b.fair.decidesOnArrival('system.echo', null)).toBe(false);
    expect(b.fair.decidesOnArrival('webhook.deliver', 'A')).toBe(false);
    expect(b.fair.decidesOnArrival('system.echo', 'A')).toBe(true);
  });

  it('leaves a job due later to be admitted when it is due', async () => {
    const b = await bench({ maxConcurrentPerKey: 1 }, 'later');
    const [running] = await b.submit('A', 1);
    expect(await b.fetchAndAdmit()).toEqual({ id: running, admitted: true });
    const [parked] = await b.submit('A', 1);
    expect(await b.parkList('A')).toEqual([parked]);
    const later = randomUUID();
    const runAt = new Date(Date.now() + 3_600_000);
    await b.enqueue({ id: later, type: 'system.echo', payload: {}, concurrencyKey: 'A', runAt });
    // delayed until its run time, not parked: it takes its turn when it is due
    expect(await b.state(later)).toBe('delayed');
    expect(await b.parkList('A')).toEqual([parked]);
    expect(await b.fair.waitingFor(later)).toBeNull();
  });

  it('decides a batch in one script call, and makes none for jobs without a key', async () => {
    const b = await bench({ maxConcurrentPerKey: 2 }, 'calls');
    // the command the enqueuer's scheduler defined on the connection, counted
    const arrive = vi.spyOn(
      b.redis as unknown as Record<'jobstackFairArrive', (...args: unknown[]) => Promise<unknown>>,
      'jobstackFairArrive',
    );
    const addBulk = vi.spyOn(b.queue, 'addBulk');
    await b.submit(null, 20);
    expect(addBulk).toHaveBeenCalled();
    expect(arrive).not.toHaveBeenCalled();
    addBulk.mockClear();
    await b.submit('A', 20);
    // one decision per addBulk, however many jobs it carries
    expect(arrive.mock.calls.length).toBe(addBulk.mock.calls.length);
    expect(addBulk.mock.calls.flatMap(([jobs]) => jobs)).toHaveLength(20);
    arrive.mockRestore();
    addBulk.mockRestore();
  });

  it('lets no more of a key’s jobs into wait in one batch than its limit, and parks the rest in order', async () => {
    const b = await bench({ maxConcurrentPerKey: 2 }, 'burst');
    const idsA = Array.from({ length: 10 }, () => randomUUID());
    const idB = randomUUID();
    // one addBulk: the first call goes alone, the ones made meanwhile share the next
    await Promise.all(
      [...idsA, idB].map((id) =>
        b.enqueue({
          id,
          type: 'system.echo',
          payload: {},
          concurrencyKey: id === idB ? 'B' : 'A',
        }),
      ),
    );
    const states = await Promise.all(idsA.map((id) => b.state(id)));
    expect(states.filter((state) => state === 'prioritized')).toHaveLength(2);
    expect(states.filter((state) => state === 'delayed')).toHaveLength(8);
    // another key of the same batch has its own limit
    expect(await b.state(idB)).toBe('prioritized');

    const parked = idsA.filter((_, i) => states[i] === 'delayed');
    // FIFO within the key: parked in the order they were enqueued
    expect(await b.parkList('A')).toEqual(parked);
    expect(await b.fair.waitingFor(parked[0] as string)).toBe('concurrency');
    const job = await b.queue.getJob(parked[0] as string);
    expect(job?.delay).toBe(PARKED_RECHECK_MS);
    expect(job?.attemptsMade).toBe(0);
  });

  it('parks the new jobs of a key with parked jobs behind them, and wakes them in order as slots free', async () => {
    const b = await bench({ maxConcurrentPerKey: 1 }, 'behind');
    const [running, parkedByWorker] = [...(await b.submit('A', 1)), ...(await b.submit('A', 1))];
    // the second went to wait (the first held no slot yet); the worker parks it
    expect(await b.fetchAndAdmit()).toEqual({ id: running, admitted: true });
    expect(await b.fetchAndAdmit()).toEqual({ id: parkedByWorker, admitted: false });

    const arrived = [...(await b.submit('A', 1)), ...(await b.submit('A', 1))];
    for (const id of arrived) expect(await b.state(id)).toBe('delayed');
    expect(await b.parkList('A')).toEqual([parkedByWorker, ...arrived]);

    let holder = running as string;
    for (const next of [parkedByWorker, ...arrived]) {
      await b.fair.release(holder, 'system.echo', 'A');
      expect(await b.state(next as string)).toBe('prioritized');
      expect(await b.fetchAndAdmit()).toEqual({ id: next, admitted: true });
      holder = next as string;
    }
    expect(await b.parkList('A')).toEqual([]);
  });

  it('parks a job past its key’s rate window, timed to the window’s opening', async () => {
    const b = await bench({ rateMax: 2, rateWindowMs: 10_000 }, 'rate');
    // the first two go to wait (the window has room), and the worker starts them
    const ids = await b.submit('A', 2);
    expect((await b.fetchAndAdmit()).admitted).toBe(true);
    expect((await b.fetchAndAdmit()).admitted).toBe(true);
    ids.push(...(await b.submit('A', 1)), ...(await b.submit('A', 1)));
    expect(await b.state(ids[2] as string)).toBe('delayed');
    expect(await b.fair.waitingFor(ids[2] as string)).toBe('rateLimit');
    // the first parked job wakes itself when the window opens; the next waits behind it
    expect((await b.queue.getJob(ids[2] as string))?.delay).toBeLessThanOrEqual(10_000);
    expect((await b.queue.getJob(ids[3] as string))?.delay).toBe(PARKED_RECHECK_MS);
  });

  it('runs a job whose turn came before its add was done, and passes on the turn of one never added', async () => {
    const b = await bench({ maxConcurrentPerKey: 1 }, 'race');
    const [running] = await b.submit('A', 1);
    expect(await b.fetchAndAdmit()).toEqual({ id: running, admitted: true });

    // The enqueuer's steps taken apart: decide, then (later) add and confirm. Between them, the
    // running job ends and its release takes the first arriving job off the list.
    const late = { id: randomUUID(), type: 'system.echo' as const, concurrencyKey: 'A' };
    const ghost = { id: randomUUID(), type: 'system.echo' as const, concurrencyKey: 'A' };
    const parked = await b.fair.parkOnArrival([late, ghost]);
    expect([...parked.keys()]).toEqual([late.id, ghost.id]);
    await b.fair.release(running as string, 'system.echo', 'A');
    // BullMQ had no job to promote yet: the turn passed on to the next, which does not exist
    // either (its enqueuer died before its add) and is dropped from the list; reconcile adds its
    // row's job again later
    expect(await b.parkList('A')).toEqual([]);

    await enqueueJob(b.queue, {
      id: late.id,
      type: 'system.echo',
      payload: {},
      concurrencyKey: 'A',
      runAt: new Date(Date.now() + (parked.get(late.id) ?? 0)),
    });
    expect(await b.state(late.id)).toBe('delayed');
    await b.fair.confirmArrived([late]);
    // woken by its enqueuer after the add: it runs now, not after its recheck
    expect(await b.state(late.id)).toBe('prioritized');
    expect(await b.fetchAndAdmit()).toEqual({ id: late.id, admitted: true });
    expect(await b.fair.waitingFor(late.id)).toBeNull();

    // reconcile adds the never-added job again under its id, through the same arrival decision:
    // its turn passed while it did not exist, so it is promoted at once instead of at its recheck
    const limits: LimitsByType = { 'system.echo': { ...NONE, maxConcurrentPerKey: 1 } };
    await enqueueJob(
      b.queue,
      { id: ghost.id, type: 'system.echo', payload: {}, concurrencyKey: 'A' },
      { arrival: { limits, connection: b.redis } },
    );
    expect(await b.state(ghost.id)).toBe('prioritized');
    // the slot is still late's: admitted, the job parks again, on its list this time
    expect(await b.fetchAndAdmit()).toEqual({ id: ghost.id, admitted: false });
    expect(await b.parkList('A')).toEqual([ghost.id]);
  });

  it('keeps a job parked on arrival parked when its add is confirmed with no wake in between', async () => {
    const b = await bench({ maxConcurrentPerKey: 1 }, 'confirm');
    const [running] = await b.submit('A', 1);
    expect(await b.fetchAndAdmit()).toEqual({ id: running, admitted: true });
    const [waiting] = await b.submit('A', 1);
    expect(await b.state(waiting as string)).toBe('delayed');
    // confirmed by the enqueuer: an ordinary parked job, woken by the next release
    await b.fair.release(running as string, 'system.echo', 'A');
    expect(await b.state(waiting as string)).toBe('prioritized');
    expect(await b.fetchAndAdmit()).toEqual({ id: waiting, admitted: true });
  });
});

describe('park on arrival under the type-wide maxConcurrent (real Redis)', () => {
  it('lets no more jobs without a key into wait than maxConcurrent, and wakes the parked ones in order', async () => {
    const b = await bench({ maxConcurrent: 2 }, 'type');
    expect(b.fair.decidesOnArrival('system.echo', null)).toBe(true);
    const ids = Array.from({ length: 5 }, () => randomUUID());
    // one batch: the first call goes alone, the ones made meanwhile share the next addBulk
    await Promise.all(ids.map((id) => b.enqueue({ id, type: 'system.echo', payload: {} })));
    const states = await Promise.all(ids.map((id) => b.state(id)));
    expect(states.filter((state) => state === 'prioritized')).toHaveLength(2);
    const parked = ids.filter((_, i) => states[i] === 'delayed');
    expect(parked).toHaveLength(3);
    // the jobs without a key queue on the key '' of the type, in the order they were enqueued
    expect(await b.parkList('')).toEqual(parked);
    expect(await b.fair.waitingFor(parked[0] as string)).toBe('concurrency');

    const first = await b.fetchAndAdmit();
    const second = await b.fetchAndAdmit();
    expect([first.admitted, second.admitted]).toEqual([true, true]);
    // (the first admit, finding a slot left, already woke the head: waking reserves nothing)
    const listed = await b.parkList('');
    expect(listed).toEqual(parked.slice(parked.length - listed.length));
    // a freed slot wakes the next parked job, in order
    await b.fair.release(first.id, 'system.echo', null);
    expect(await b.parkList('')).toEqual(listed.slice(1));
    expect(await b.state(listed[0] as string)).toBe('prioritized');
    // a later job queues behind the parked ones even while a slot is free
    const [later] = await b.submit(null, 1);
    expect(await b.state(later as string)).toBe('delayed');
    expect(await b.parkList('')).toEqual([...listed.slice(1), later]);
    // the woken jobs take the free slot, and no more than it
    expect(await b.fair.holders('system.echo')).toBe(1);
    expect((await b.fetchAndAdmit()).admitted).toBe(true);
    expect((await b.fetchAndAdmit()).admitted).toBe(false);
    expect(await b.fair.holders('system.echo')).toBe(2);
  });

  it('counts the jobs of every key against maxConcurrent, and each key against its own limit', async () => {
    const b = await bench({ maxConcurrent: 3, maxConcurrentPerKey: 2 }, 'type-keys');
    const a = await b.submit('A', 3);
    const stateOf = async (ids: string[]) => Promise.all(ids.map((id) => b.state(id)));
    // A's limit: two of its three in wait
    expect((await stateOf(a)).filter((state) => state === 'prioritized')).toHaveLength(2);
    // the type has room for one more: B's first goes to wait, its second parks for the type
    const [b1, b2] = [...(await b.submit('B', 1)), ...(await b.submit('B', 1))];
    // separate batches do not count each other's let-through jobs, so admit the first four
    expect(await b.state(b1 as string)).toBe('prioritized');
    for (let i = 0; i < 3; i += 1) expect((await b.fetchAndAdmit()).admitted).toBe(true);
    expect(await b.fair.holders('system.echo')).toBe(3);
    const [b3] = await b.submit('B', 1);
    expect(await b.state(b3 as string)).toBe('delayed');
    expect(await b.fair.waitingFor(b3 as string)).toBe('concurrency');
    // b2 went to wait before the slots were taken: the worker parks it, at the end of B's list
    expect(await b.fetchAndAdmit()).toEqual({ id: b2, admitted: false });
    expect(await b.parkList('B')).toEqual([b3, b2]);
  });
});

describe('park on arrival through the single enqueueJob (real Redis)', () => {
  it('adds a job whose key is at its limit already parked, behind the parked ones, and counts it', async () => {
    const b = await bench({ maxConcurrentPerKey: 1 }, 'single');
    const limits: LimitsByType = { 'system.echo': { ...NONE, maxConcurrentPerKey: 1 } };
    const counted: string[] = [];
    const arrival = { limits, connection: b.redis, onParked: (type: string) => counted.push(type) };
    const add = (id: string, concurrencyKey: string | null) =>
      enqueueJob(b.queue, { id, type: 'system.echo', payload: {}, concurrencyKey }, { arrival });

    const [running, first, second, noKey] = [
      randomUUID(),
      randomUUID(),
      randomUUID(),
      randomUUID(),
    ];
    await add(running, 'A');
    // under the limit: straight to wait, not counted
    expect(await b.state(running)).toBe('prioritized');
    expect(counted).toEqual([]);
    expect(await b.fetchAndAdmit()).toEqual({ id: running, admitted: true });

    await add(first, 'A');
    await add(second, 'A');
    await add(noKey, null);
    expect(await b.state(first)).toBe('delayed');
    expect(await b.state(second)).toBe('delayed');
    expect(await b.fair.waitingFor(first)).toBe('concurrency');
    expect(await b.parkList('A')).toEqual([first, second]);
    // a job without a key is not decided on arrival
    expect(await b.state(noKey)).toBe('prioritized');
    expect(counted).toEqual(['system.echo', 'system.echo']);

    // confirmed parked: the release wakes the first in order
    await b.fair.release(running, 'system.echo', 'A');
    expect(await b.state(first)).toBe('prioritized');
    expect(await b.state(second)).toBe('delayed');
  });

  it('adds every job to wait without arrival options, as before', async () => {
    const b = await bench({ maxConcurrentPerKey: 1 }, 'single-off');
    const [running, next] = [randomUUID(), randomUUID()];
    await enqueueJob(b.queue, {
      id: running,
      type: 'system.echo',
      payload: {},
      concurrencyKey: 'A',
    });
    expect(await b.fetchAndAdmit()).toEqual({ id: running, admitted: true });
    await enqueueJob(b.queue, { id: next, type: 'system.echo', payload: {}, concurrencyKey: 'A' });
    expect(await b.state(next)).toBe('prioritized');
    expect(await b.parkList('A')).toEqual([]);
  });
});

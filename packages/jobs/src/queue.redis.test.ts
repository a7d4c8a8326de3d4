import { BatchQueueFullError } from '@repo/batching';
import { createTestRedisPrefix, TEST_REDIS_URL, type TestRedisPrefix } from '@repo/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createJobEnqueuer, enqueueJob, enqueueJobs } from './enqueue.ts';
import { InvalidPayloadError } from './errors.ts';
import { DEFAULT_JOB_PRIORITY } from './priority.ts';
import { createJobQueue, type JobQueue } from './queue.ts';
import { createRedisConnection, isRedisUnavailableError } from './redis-connection.ts';

describe('enqueueJob (real Redis)', () => {
  let keys: TestRedisPrefix;
  let connection: Redis;
  let queue: JobQueue;

  beforeAll(() => {
    keys = createTestRedisPrefix('enqueue');
    connection = createRedisConnection({
      url: TEST_REDIS_URL,
      family: 0,
      onOutage: 'fail-fast',
      connectionName: 'test-enqueue',
    });
    queue = createJobQueue(connection, keys.prefix);
  });
  afterAll(async () => {
    await queue.close();
    connection.disconnect();
    await keys.cleanup();
  });

  it('adds the job under the row id with the type defaults', async () => {
    const id = crypto.randomUUID();
    await enqueueJob(queue, {
      id,
      type: 'webhook.deliver',
      payload: { url: 'https://example.com', body: 1 },
    });
    const job = await queue.getJob(id);
    expect(job?.name).toBe('webhook.deliver');
    expect(job?.data).toEqual({ url: 'https://example.com', body: 1 });
    expect(job?.opts).toMatchObject({
      attempts: 8,
      backoff: { type: 'exponential', delay: 2_000 },
      // the default priority is a BullMQ priority too: BullMQ runs jobs without one first
      priority: DEFAULT_JOB_PRIORITY,
    });
    expect(await job?.getState()).toBe('prioritized');
  });

  it('adds one job when the same id is enqueued twice', async () => {
    const id = crypto.randomUUID();
    await enqueueJob(queue, { id, type: 'system.echo', payload: { data: 1 } });
    await enqueueJob(queue, { id, type: 'system.echo', payload: { data: 2 } });
    const jobs = await queue.getJobs(['prioritized']);
    expect(jobs.filter((j) => j.id === id).map((j) => j.data)).toEqual([{ data: 1 }]);
  });

  it('delays a job until runAt and honours maxAttempts', async () => {
    const id = crypto.randomUUID();
    const runAt = new Date(Date.now() + 60_000);
    await enqueueJob(queue, { id, type: 'system.echo', payload: {}, runAt, maxAttempts: 5 });
    const job = await queue.getJob(id);
    expect(await job?.getState()).toBe('delayed');
    expect(job?.opts.attempts).toBe(5);
    expect(job?.opts.delay).toBeGreaterThan(55_000);
  });

  it('refuses an invalid payload before it reaches Redis', async () => {
    const id = crypto.randomUUID();
    await expect(
      enqueueJob(queue, { id, type: 'system.echo', payload: { delayMs: -1 } as never }),
    ).rejects.toBeInstanceOf(InvalidPayloadError);
    expect(await queue.getJob(id)).toBeUndefined();
  });

  it('enqueueJobs adds many jobs in one addBulk, each with its priority; an invalid one adds none', async () => {
    const ids = [crypto.randomUUID(), crypto.randomUUID()];
    const addBulk = vi.spyOn(queue, 'addBulk');
    await enqueueJobs(queue, [
      { id: ids[0] as string, type: 'system.echo', payload: { data: 0 }, priority: 9 },
      { id: ids[1] as string, type: 'system.echo', payload: { data: 1 } },
    ]);
    expect(addBulk).toHaveBeenCalledTimes(1);
    addBulk.mockRestore();
    expect((await queue.getJob(ids[0] as string))?.opts.priority).toBe(9);
    expect((await queue.getJob(ids[1] as string))?.opts.priority).toBe(DEFAULT_JOB_PRIORITY);

    const invalid = [crypto.randomUUID(), crypto.randomUUID()];
    await expect(
      enqueueJobs(queue, [
        { id: invalid[0] as string, type: 'system.echo', payload: { data: 0 } },
        { id: invalid[1] as string, type: 'system.echo', payload: { delayMs: -1 } as never },
      ]),
    ).rejects.toBeInstanceOf(InvalidPayloadError);
    expect(await queue.getJob(invalid[0] as string)).toBeUndefined();
  });
});

describe('createJobEnqueuer (real Redis)', () => {
  let keys: TestRedisPrefix;
  let connection: Redis;
  let queue: JobQueue;

  beforeAll(() => {
    keys = createTestRedisPrefix('enqueuer');
    connection = createRedisConnection({
      url: TEST_REDIS_URL,
      family: 0,
      onOutage: 'fail-fast',
      connectionName: 'test-enqueuer',
    });
    queue = createJobQueue(connection, keys.prefix);
  });
  afterAll(async () => {
    await queue.close();
    connection.disconnect();
    await keys.cleanup();
  });

  it('adds jobs enqueued together in one addBulk, each under its row id with its options', async () => {
    const addBulk = vi.spyOn(queue, 'addBulk');
    const enqueue = createJobEnqueuer(queue);
    const ids = Array.from({ length: 20 }, () => crypto.randomUUID());
    const runAt = new Date(Date.now() + 60_000);
    await Promise.all(
      ids.map((id, n) =>
        enqueue({
          id,
          type: 'system.echo',
          payload: { data: n },
          maxAttempts: n + 1,
          ...(n === 0 ? { runAt } : {}),
        }),
      ),
    );
    expect(addBulk).toHaveBeenCalledTimes(1);
    addBulk.mockRestore();
    for (const [n, id] of ids.entries()) {
      const job = await queue.getJob(id);
      expect(job?.name).toBe('system.echo');
      expect(job?.data).toEqual({ data: n });
      expect(job?.opts.attempts).toBe(n + 1);
    }
    expect(await (await queue.getJob(ids[0] as string))?.getState()).toBe('delayed');
    expect(await (await queue.getJob(ids[1] as string))?.getState()).toBe('prioritized');
  });

  it('fails every job of a batch together when Redis is gone, without retrying them one by one', async () => {
    const lost = createRedisConnection({
      url: TEST_REDIS_URL,
      family: 0,
      onOutage: 'fail-fast',
      connectionName: 'test-enqueuer-lost',
    });
    const lostQueue = createJobQueue(lost, keys.prefix);
    await lostQueue.waitUntilReady();
    lost.disconnect();
    const addBulk = vi.spyOn(lostQueue, 'addBulk');
    const enqueue = createJobEnqueuer(lostQueue);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 3 }, () =>
        enqueue({ id: crypto.randomUUID(), type: 'system.echo', payload: {} }),
      ),
    );
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      expect(isRedisUnavailableError((outcome as PromiseRejectedResult).reason)).toBe(true);
    }
    expect(addBulk).toHaveBeenCalledTimes(1);
    await lostQueue.close();
  });

  it('fails only the caller whose job is invalid or refused; the rest are added', async () => {
    const enqueue = createJobEnqueuer(queue);
    const good = [crypto.randomUUID(), crypto.randomUUID()];
    const outcomes = await Promise.allSettled([
      enqueue({ id: good[0] as string, type: 'system.echo', payload: {} }),
      enqueue({ id: crypto.randomUUID(), type: 'system.echo', payload: { delayMs: -1 } as never }),
      // BullMQ refuses numeric custom ids, which fails the addBulk it is part of
      enqueue({ id: '12345', type: 'system.echo', payload: {} }),
      enqueue({ id: good[1] as string, type: 'system.echo', payload: {} }),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      'fulfilled',
      'rejected',
      'rejected',
      'fulfilled',
    ]);
    expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(InvalidPayloadError);
    expect((outcomes[2] as PromiseRejectedResult).reason).toMatchObject({
      message: 'Custom Id cannot be integers',
    });
    for (const id of good) expect(await queue.getJob(id)).toBeDefined();
    expect(await queue.getJob('12345')).toBeUndefined();
  });

  it('refuses a job at once while maxWaiting jobs wait for an addBulk still in flight', async () => {
    const addBulk = queue.addBulk.bind(queue);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const spy = vi.spyOn(queue, 'addBulk').mockImplementationOnce(async (jobs) => {
      await held;
      return addBulk(jobs);
    });
    const enqueue = createJobEnqueuer(queue, { maxWaiting: 2 });
    const echo = () => ({ id: crypto.randomUUID(), type: 'system.echo' as const, payload: {} });
    const inFlight = enqueue(echo());
    await new Promise((resolve) => setImmediate(resolve));
    const waiting = [enqueue(echo()), enqueue(echo())];
    await expect(enqueue(echo())).rejects.toBeInstanceOf(BatchQueueFullError);
    release();
    await Promise.all([inFlight, ...waiting]);
    expect(spy).toHaveBeenCalledTimes(2);
    spy.mockRestore();
  });
});

describe('createRedisConnection (real Redis)', () => {
  it('makes a producer fail fast while Redis is unreachable', async () => {
    const producer = createRedisConnection({
      url: 'redis://127.0.0.1:1',
      family: 0,
      onOutage: 'fail-fast',
      connectionName: 'test-down',
    });
    producer.on('error', () => {
      // connection errors are expected here; the assertion is on the command
    });
    const started = Date.now();
    await expect(producer.ping()).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2_000);
    producer.disconnect();
  });

  it('gives workers the connection settings BullMQ requires', () => {
    const worker = createRedisConnection({
      url: TEST_REDIS_URL,
      family: 0,
      onOutage: 'wait-for-reconnect',
      connectionName: 'test-worker',
    });
    expect(worker.options.maxRetriesPerRequest).toBeNull();
    expect(worker.options.family).toBe(0);
    worker.disconnect();
  });
});

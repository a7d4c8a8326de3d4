import { createTestRedisPrefix, TEST_REDIS_URL, type TestRedisPrefix } from '@repo/testing';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueJob } from './enqueue.ts';
import { InvalidPayloadError } from './errors.ts';
import { createJobQueue, type JobQueue } from './queue.ts';
import { createRedisConnection } from './redis-connection.ts';

const redisConfig = (url = TEST_REDIS_URL) =>
  ({ REDIS_URL: { reveal: () => url }, REDIS_FAMILY: 0, QUEUE_PREFIX: 'unused' }) as never;

describe('enqueueJob (real Redis)', () => {
  let keys: TestRedisPrefix;
  let connection: Redis;
  let queue: JobQueue;

  beforeAll(() => {
    keys = createTestRedisPrefix('enqueue');
    connection = createRedisConnection(redisConfig(), 'producer', 'test-enqueue');
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
    });
    expect(await job?.getState()).toBe('waiting');
  });

  it('adds one job when the same id is enqueued twice', async () => {
    const id = crypto.randomUUID();
    await enqueueJob(queue, { id, type: 'system.echo', payload: { data: 1 } });
    await enqueueJob(queue, { id, type: 'system.echo', payload: { data: 2 } });
    const jobs = await queue.getJobs(['waiting']);
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
});

describe('createRedisConnection (real Redis)', () => {
  it('makes a producer fail fast while Redis is unreachable', async () => {
    const producer = createRedisConnection(
      redisConfig('redis://127.0.0.1:1'),
      'producer',
      'test-down',
    );
    producer.on('error', () => {
      // connection errors are expected here; the assertion is on the command
    });
    const started = Date.now();
    await expect(producer.ping()).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2_000);
    producer.disconnect();
  });

  it('gives workers the connection settings BullMQ requires', () => {
    const worker = createRedisConnection(redisConfig(), 'worker', 'test-worker');
    expect(worker.options.maxRetriesPerRequest).toBeNull();
    expect(worker.options.family).toBe(0);
    worker.disconnect();
  });
});

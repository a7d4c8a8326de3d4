import { randomUUID } from 'node:crypto';
import { decodeJobEvent, type JobEventMessage, jobEventsChannel } from '@repo/jobs';
import { createLogger, type Logger } from '@repo/logger';
import { createTestRedisPrefix, READY_DEADLINE_MS, TEST_REDIS_URL } from '@repo/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createJobEventPublisher } from './job-event-publisher.ts';

describe('job event publisher (real Redis)', () => {
  const channel = jobEventsChannel(createTestRedisPrefix('job-event-publisher').prefix);
  let redis: Redis;
  let listener: Redis;
  let logger: Logger;
  const received: JobEventMessage[] = [];

  beforeAll(async () => {
    redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
    listener = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    listener.on('message', (_channel: string, text: string) => {
      const message = decodeJobEvent(text);
      if (message) received.push(message);
    });
    await listener.subscribe(channel);
    logger = await createLogger({
      service: 'worker',
      version: 'test',
      config: { NODE_ENV: 'test', LOG_LEVEL: 'silent', LOG_FORMAT: 'json' },
    });
  });
  afterAll(() => {
    redis?.disconnect();
    listener?.disconnect();
  });

  it('sends the announcements of one turn as one pipeline, each a PUBLISH of its own, in order', async () => {
    const publisher = createJobEventPublisher({ redis, channel, logger });
    const pipeline = vi.spyOn(redis, 'pipeline');
    const [a, b] = [randomUUID(), randomUUID()];
    const progress = { percent: 50, message: 'half', updatedAt: new Date().toISOString() };
    publisher.status(a);
    publisher.progress(b, progress);
    publisher.status(b);
    await vi.waitFor(() => expect(received).toHaveLength(3), { timeout: READY_DEADLINE_MS });
    expect(received).toEqual([
      { kind: 'status', jobId: a },
      { kind: 'progress', jobId: b, progress },
      { kind: 'status', jobId: b },
    ]);
    expect(pipeline).toHaveBeenCalledTimes(1);
    pipeline.mockRestore();
  });

  it('logs a failing announcement once per outage, not once per job', async () => {
    const closed = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 0, lazyConnect: true });
    closed.disconnect();
    // every pipeline the publisher sends, settled or not
    const sent: Promise<unknown>[] = [];
    const pipeline = closed.pipeline.bind(closed);
    vi.spyOn(closed, 'pipeline').mockImplementation((...args) => {
      const created = pipeline(...args);
      const exec = created.exec.bind(created);
      created.exec = (...execArgs) => {
        const result = exec(...execArgs);
        sent.push(
          result.then(
            () => undefined,
            () => undefined,
          ),
        );
        return result;
      };
      return created;
    });
    const warn = vi.spyOn(logger, 'warn');
    const publisher = createJobEventPublisher({ redis: closed, channel, logger });
    publisher.status(randomUUID());
    await vi.waitFor(() => expect(sent).toHaveLength(1), { timeout: READY_DEADLINE_MS });
    await Promise.all(sent);
    expect(warn).toHaveBeenCalledTimes(1);
    publisher.status(randomUUID());
    publisher.status(randomUUID());
    await vi.waitFor(() => expect(sent).toHaveLength(2), { timeout: READY_DEADLINE_MS });
    await Promise.all(sent);
    expect(warn).toHaveBeenCalledTimes(1);
    warn.mockRestore();
  });

  it('drain sends the pending announcements before their connection closes', async () => {
    const own = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
    const publisher = createJobEventPublisher({ redis: own, channel, logger });
    const jobId = randomUUID();
    publisher.status(jobId);
    await publisher.drain();
    await own.quit();
    await vi.waitFor(() => expect(received).toContainEqual({ kind: 'status', jobId }), {
      timeout: READY_DEADLINE_MS,
    });
  });
});

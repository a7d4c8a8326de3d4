import { randomUUID } from 'node:crypto';
import {
  createJobQueue,
  defineSchedule,
  listSchedules,
  declaredSchedules as schedules,
  syncSchedules,
} from '@repo/jobs';
import { createLogger, type Logger } from '@repo/logger';
import {
  captureJsonLines,
  createTestRedisPrefix,
  freePort,
  READY_DEADLINE_MS,
  TEST_REDIS_URL,
  type TestRedisPrefix,
} from '@repo/testing';
import { Redis } from 'ioredis';
import { Counter, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScheduleSync } from './schedule-sync.ts';

// The sync loop in-process against real Redis: what beat does when a newer beat runs (a deploy)
// and when Redis cannot be reached. main.postgres-redis.test.ts runs beat itself for the usual path.

async function capturingLogger(): Promise<{ logger: Logger; lines: Record<string, unknown>[] }> {
  const logs = captureJsonLines();
  const logger = await createLogger({
    service: 'beat',
    version: 'test',
    config: { NODE_ENV: 'test', LOG_LEVEL: 'info', LOG_FORMAT: 'json' },
    destination: logs.destination,
  });
  return { logger, lines: logs.lines };
}

function syncCounter() {
  return new Counter({
    name: 'beat_schedule_syncs_total',
    help: 'syncs by result',
    labelNames: ['result'] as const,
    registers: [new Registry()],
  });
}

async function count(counter: Counter<'result'>, result: string): Promise<number> {
  const { values } = await counter.get();
  return values.find((value) => value.labels.result === result)?.value ?? 0;
}

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + READY_DEADLINE_MS;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${READY_DEADLINE_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('startScheduleSync (real Redis)', () => {
  let keys: TestRedisPrefix;
  const connections: Redis[] = [];

  beforeAll(() => {
    keys = createTestRedisPrefix('beat-sync');
  });
  afterAll(async () => {
    for (const connection of connections) connection.disconnect();
    await keys.cleanup();
  });

  it('leaves the schedules alone, and counts the sync as superseded, while a beat with a newer list runs', async () => {
    const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    connections.push(redis);
    const queue = createJobQueue(redis, keys.prefix);
    const { logger, lines } = await capturingLogger();
    const syncs = syncCounter();
    const sync = startScheduleSync({
      queue,
      redis,
      prefix: keys.prefix,
      schedules,
      // its registration lasts three intervals: long enough that a busy machine does not let it
      // lapse (a lapsed beat registers again as the newest), short enough to wait for a resync
      intervalMs: 3_000,
      logger,
      syncs,
    });
    await sync.firstSync;
    expect(await count(syncs, 'ok')).toBeGreaterThanOrEqual(1);

    // a newer beat (a deploy adding a schedule) registers its list after this one
    const newerList = [
      ...schedules,
      defineSchedule({ id: 'added', type: 'maintenance.prune', payload: {}, every: 3_600_000 }),
    ];
    const newer = { redis, prefix: keys.prefix, instanceId: randomUUID(), instanceTtlMs: 60_000 };
    const taken = await syncSchedules(queue, newerList, newer);
    expect(taken.supersededBy).toBeUndefined();

    await until(async () => (await count(syncs, 'superseded')) > 0, 'a superseded sync');
    expect(lines).toContainEqual(
      expect.objectContaining({
        msg: 'schedules left as they are: a beat with a newer list of schedules is running',
        generation: expect.any(Number),
        supersededBy: taken.generation,
      }),
    );
    // the older list did not remove what the newer one added
    expect((await listSchedules(queue)).map((s) => s.id).sort()).toEqual(
      newerList.map((s) => s.id).sort(),
    );

    // stopping leaves: the newer beat is the only one registered
    await sync.stop();
    expect(await redis.zrange(`${keys.prefix}:beat:instances`, '0', '-1')).toEqual([
      expect.stringMatching(new RegExp(`:${newer.instanceId}$`)),
    ]);
    await queue.close();
  });

  it('logs, counts and retries a sync that fails while Redis is unreachable, and says it could not deregister', async () => {
    // nothing listens there, and without an offline queue every command fails at once
    const redis = new Redis(`redis://127.0.0.1:${await freePort()}`, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => 1_000,
    });
    connections.push(redis);
    redis.on('error', () => undefined);
    const queue = createJobQueue(redis, keys.prefix);
    queue.on('error', () => undefined);
    const { logger, lines } = await capturingLogger();
    const syncs = syncCounter();
    const sync = startScheduleSync({
      queue,
      redis,
      prefix: keys.prefix,
      schedules,
      // a resync an hour away: a second attempt can only be the retry
      intervalMs: 3_600_000,
      retryMs: 50,
      logger,
      syncs,
    });

    await until(async () => (await count(syncs, 'error')) >= 2, 'a failed sync retried');
    expect(await count(syncs, 'ok')).toBe(0);
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'error', msg: 'schedule sync failed; retrying' }),
    );

    await sync.stop();
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        msg: 'could not deregister this beat; its registration expires by itself',
        err: expect.objectContaining({ message: expect.any(String) }),
      }),
    );
  });
});

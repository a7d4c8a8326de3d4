import { loadConfig } from '@repo/config';
import { createDb, createScheduleRepository, type Db, migrate } from '@repo/db';
import { databaseOptions } from '@repo/db/env';
import {
  announceScheduleChange,
  createJobQueue,
  listSchedules,
  declaredSchedules as schedules,
} from '@repo/jobs';
import { expectUnreadyOnEvictingRedis } from '@repo/jobs/testing';
import {
  createTestDatabase,
  createTestRedisPrefix,
  freePort,
  READY_DEADLINE_MS,
  type ServiceProcess,
  startServiceProcess,
  TEST_REDIS_URL,
  type TestDatabase,
  type TestRedisPrefix,
} from '@repo/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beatEnv } from './env.ts';

const entry = new URL('./main.ts', import.meta.url).pathname;

describe('beat (real processes, real PostgreSQL and Redis)', () => {
  let keys: TestRedisPrefix;
  let redis: Redis;
  let database: TestDatabase;
  let db: Db;
  const beats: ServiceProcess[] = [];

  beforeAll(async () => {
    keys = createTestRedisPrefix('beat');
    redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    database = await createTestDatabase('beat_process');
    await migrate({ databaseUrl: database.url });
    db = createDb(
      databaseOptions(
        loadConfig(beatEnv, { DATABASE_URL: database.url, REDIS_URL: TEST_REDIS_URL }),
      ),
    );
  });
  afterAll(async () => {
    await Promise.all(beats.map((b) => b.stop('SIGKILL')));
    redis.disconnect();
    await db?.disconnect();
    await database?.drop();
    await keys.cleanup();
  });

  async function startBeat(env: Record<string, string> = {}) {
    const port = await freePort();
    const beat = startServiceProcess(entry, {
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: keys.prefix,
      HEALTH_PORT: String(port),
      HEALTH_HOST: '127.0.0.1',
      ...env,
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
    const upcoming = await queue.getJobs(['delayed', 'waiting', 'prioritized']);
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

  it('two beats apply a change made through the API at once, without waiting for their resync', {
    timeout: 60_000,
  }, async () => {
    // a resync an hour away: only the announcement can make them sync
    const [a, b] = await Promise.all([
      startBeat({ BEAT_RESYNC_INTERVAL: '1h' }),
      startBeat({ BEAT_RESYNC_INTERVAL: '1h' }),
    ]);
    await Promise.all([
      a.beat.waitForHttp(`http://127.0.0.1:${a.port}/health/ready`),
      b.beat.waitForHttp(`http://127.0.0.1:${b.port}/health/ready`),
    ]);
    const queue = createJobQueue(redis, keys.prefix);
    const table = createScheduleRepository(db);
    const registered = async () => (await listSchedules(queue)).map((s) => s.id).sort();
    const declared = schedules.map((s) => s.id);

    /** Waits until Redis's schedulers are `expected`, within the deadline of a busy machine. */
    async function until(expected: string[]): Promise<void> {
      const deadline = Date.now() + READY_DEADLINE_MS;
      while (JSON.stringify(await registered()) !== JSON.stringify([...expected].sort())) {
        if (Date.now() > deadline) {
          throw new Error(`schedulers ${JSON.stringify(await registered())}, not ${expected}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    }

    const created = await table.create({
      key: 'reports.nightly',
      type: 'webhook.deliver',
      payload: { url: 'https://example.com/hook', body: { report: 'nightly' } },
      cron: '30 2 * * *',
      timezone: 'Europe/Berlin',
      everySeconds: null,
      paused: false,
      description: null,
    });
    await announceScheduleChange(redis, keys.prefix, created.key);
    await until([...declared, 'reports.nightly']);
    expect((await listSchedules(queue)).find((s) => s.id === 'reports.nightly')).toMatchObject({
      type: 'webhook.deliver',
      pattern: '30 2 * * *',
      tz: 'Europe/Berlin',
    });
    // one upcoming run, though both beats synced
    const upcoming = await queue.getJobs(['delayed', 'waiting', 'prioritized']);
    expect(upcoming.filter((job) => job.repeatJobKey === 'reports.nightly')).toHaveLength(1);

    // paused: out of Redis
    const { key: _key, ...definition } = created;
    await table.update(
      created.key,
      { ...definition, paused: true },
      { revision: created.revision },
    );
    await announceScheduleChange(redis, keys.prefix, created.key);
    await until(declared);

    // a row this build cannot run (its type is gone): left out, logged and counted
    await db.pool.query(
      `INSERT INTO schedules (key, type, payload, every_seconds) VALUES ('retired', 'no.such.type', '{}', 60)`,
    );
    await announceScheduleChange(redis, keys.prefix, 'retired');
    const warned = await a.beat.waitForLog(
      (line) =>
        line.msg?.toString().startsWith('schedules defined through the API left out') ?? false,
    );
    expect(warned).toMatchObject({
      level: 'warn',
      skipped: [
        { id: 'retired', reason: 'invalid', detail: expect.stringContaining('no.such.type') },
      ],
    });
    expect(await registered()).toEqual([...declared].sort());
    const metrics = await (await fetch(`http://127.0.0.1:${a.port}/metrics`)).text();
    expect(metrics).toContain('beat_schedules_left_out{reason="invalid"} 1');
    expect(metrics).toContain('beat_schedules_left_out{reason="declared-in-code"} 0');

    expect(await Promise.all([a.beat.stop(), b.beat.stop()])).toEqual([0, 0]);
    await queue.close();
  });

  it('is not ready while Redis may evict keys, and says why', async () => {
    await expectUnreadyOnEvictingRedis({
      start: (redisUrl, port) => {
        const beat = startServiceProcess(entry, {
          DATABASE_URL: database.url,
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

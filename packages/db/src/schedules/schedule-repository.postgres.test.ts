import { loadConfig } from '@repo/config';
import { createTestDatabase, type TestDatabase } from '@repo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../create-db.ts';
import { databaseOptions, migrateEnv } from '../env.ts';
import { InvalidListLimitError } from '../jobs/job-errors.ts';
import { createJobRepository, type JobRepository } from '../jobs/job-repository.ts';
import { migrate } from '../migrate/migrate.ts';
import { ScheduleKeyTakenError } from './schedule-errors.ts';
import type { ScheduleDefinition } from './schedule-record.ts';
import { createScheduleRepository, type ScheduleRepository } from './schedule-repository.ts';

describe('schedule repository (real PostgreSQL)', () => {
  let database: TestDatabase;
  let db: Db;
  let schedules: ScheduleRepository;
  let jobs: JobRepository;

  beforeAll(async () => {
    database = await createTestDatabase('schedule_repository');
    await migrate({ databaseUrl: database.url });
    db = createDb(databaseOptions(loadConfig(migrateEnv, { DATABASE_URL: database.url })));
    schedules = createScheduleRepository(db);
    jobs = createJobRepository(db);
  });
  afterAll(async () => {
    await db?.disconnect();
    await database?.drop();
  });

  const nightly: ScheduleDefinition = {
    key: 'reports.nightly',
    type: 'webhook.deliver',
    payload: { url: 'https://example.com/hook', body: { report: 'nightly' } },
    cron: '30 2 * * *',
    timezone: 'Europe/Berlin',
    everySeconds: null,
    paused: false,
    description: 'the nightly report',
  };

  it('creates a schedule and reads it back by key and in the list', async () => {
    const created = await schedules.create(nightly);
    expect(created).toMatchObject({ ...nightly, id: expect.any(String) });
    expect(created.revision).toBeGreaterThan(0);
    expect(created.createdAt).toBeInstanceOf(Date);
    expect(await schedules.findByKey(nightly.key)).toEqual(created);
    expect(await schedules.list({ limit: 10 })).toEqual({ schedules: [created], hasMore: false });
    expect(await schedules.findByKey('nothing.here')).toBeNull();
  });

  it('refuses a second schedule with the same key and keeps the first unchanged', async () => {
    const before = await schedules.findByKey(nightly.key);
    await expect(schedules.create({ ...nightly, cron: '0 * * * *' })).rejects.toBeInstanceOf(
      ScheduleKeyTakenError,
    );
    expect(await schedules.findByKey(nightly.key)).toEqual(before);
  });

  it('updates with the revision it read, gives every write a higher revision, and refuses a stale one', async () => {
    const other = await schedules.create({
      ...nightly,
      key: 'cleanup.hourly',
      cron: null,
      timezone: null,
      everySeconds: 3_600,
    });
    const read = await schedules.findByKey(nightly.key);
    if (!read) throw new Error('the schedule is gone');
    const { key: _key, ...definition } = nightly;
    const first = await schedules.update(
      nightly.key,
      { ...definition, paused: true },
      { revision: read.revision },
    );
    expect(first).toMatchObject({ outcome: 'updated', schedule: { paused: true } });
    if (first.outcome !== 'updated') throw new Error('not updated');
    // revisions order writes across keys: this one is newer than the other schedule's creation
    expect(first.schedule.revision).toBeGreaterThan(other.revision);
    expect(first.schedule.updatedAt.getTime()).toBeGreaterThanOrEqual(read.updatedAt.getTime());

    // a writer still holding the old revision loses, and learns the current row
    const stale = await schedules.update(
      nightly.key,
      { ...definition, description: 'stale' },
      { revision: read.revision },
    );
    expect(stale).toEqual({ outcome: 'conflict', schedule: first.schedule });
    expect(await schedules.update('nothing.here', definition, { revision: 1 })).toEqual({
      outcome: 'not_found',
    });
  });

  it("returns each schedule's latest job, triggered or scheduled, and nothing for keys without one", async () => {
    const older = await jobs.create({
      type: 'webhook.deliver',
      payload: {},
      maxAttempts: 1,
      schedulerId: nightly.key,
    });
    const newer = await jobs.create({
      type: 'webhook.deliver',
      payload: {},
      maxAttempts: 1,
      schedulerId: nightly.key,
    });
    await db.pool.query(
      `UPDATE jobs SET created_at = created_at - interval '1 minute' WHERE id = $1`,
      [older.job.id],
    );
    await jobs.create({ type: 'webhook.deliver', payload: {}, maxAttempts: 1 });

    const runs = await schedules.latestRuns([nightly.key, 'cleanup.hourly']);
    expect([...runs.keys()]).toEqual([nightly.key]);
    expect(runs.get(nightly.key)).toEqual({
      id: newer.job.id,
      status: 'queued',
      createdAt: newer.job.createdAt,
    });
    expect(newer.job.schedulerId).toBe(nightly.key);
    expect(await schedules.latestRuns([])).toEqual(new Map());
  });

  it('deletes a schedule once, and a later read has a revision past the delete', async () => {
    const before = await schedules.listWithRevision();
    expect(before.schedules.map((schedule) => schedule.key)).toEqual([
      'cleanup.hourly',
      nightly.key,
    ]);
    expect(before.revision).toBe(Math.max(...before.schedules.map((s) => s.revision)));
    expect(await schedules.delete('cleanup.hourly')).toBe(true);
    expect(await schedules.delete('cleanup.hourly')).toBe(false);
    const after = await schedules.listWithRevision();
    expect(after.schedules.map((schedule) => schedule.key)).toEqual([nightly.key]);
    expect(after.revision).toBeGreaterThan(before.revision);
  });

  it('lists a page at a time by key in byte order, after a key and without the keys left out', async () => {
    // byte order puts upper case before lower case and '.' before letters, whatever the collation
    const keys = ['page.b', 'Page.C', 'page.a', 'page-d', 'page.a.1'];
    for (const key of keys) {
      await schedules.create({ ...nightly, key });
    }
    const page = (input: Parameters<ScheduleRepository['list']>[0]) =>
      schedules.list(input).then(({ schedules: rows, hasMore }) => ({
        keys: rows.map((row) => row.key),
        hasMore,
      }));

    expect(await page({ limit: 3, afterKey: 'Page' })).toEqual({
      keys: ['Page.C', 'page-d', 'page.a'],
      hasMore: true,
    });
    expect(await page({ limit: 3, afterKey: 'page.a' })).toEqual({
      keys: ['page.a.1', 'page.b', nightly.key],
      hasMore: false,
    });
    expect(
      await page({ limit: 2, afterKey: 'page-d', excludeKeys: ['page.a', 'page.a.1'] }),
    ).toEqual({ keys: ['page.b', nightly.key], hasMore: false });
    // 0 tells only whether any is left
    expect(await page({ limit: 0, afterKey: 'page.b' })).toEqual({ keys: [], hasMore: true });
    expect(await page({ limit: 0, afterKey: nightly.key })).toEqual({ keys: [], hasMore: false });
    for (const limit of [-1, 1.5, 1_001]) {
      await expect(schedules.list({ limit })).rejects.toBeInstanceOf(InvalidListLimitError);
    }
    for (const key of keys) expect(await schedules.delete(key)).toBe(true);
  });
});

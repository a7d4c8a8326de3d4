import { type Env, loadConfig } from '@repo/config';
import { createTestDatabase, type TestDatabase } from '@repo/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDb, type Db } from '../create-db.ts';
import { databaseOptions, migrateEnv } from '../env.ts';
import { migrate } from '../migrate/migrate.ts';
import { withClient } from '../testing/migrations-fixture.ts';
import { JobJsonError } from './job-errors.ts';
import type { JobRecord } from './job-record.ts';
import { createJobRepository, type JobRepository } from './job-repository.ts';

// What clients set on a job besides its payload and find jobs by: tags, metadata, creation time.

describe('job repository: tags, metadata and listing filters (real PostgreSQL)', () => {
  let database: TestDatabase;
  let db: Db;
  let jobs: JobRepository;

  beforeAll(async () => {
    database = await createTestDatabase('job_operations');
    await migrate({ databaseUrl: database.url });
    const env: Env = { DATABASE_URL: database.url };
    db = createDb(databaseOptions(loadConfig(migrateEnv, env)));
    jobs = createJobRepository(db);
  });
  afterAll(async () => {
    await db?.disconnect();
    await database?.drop();
  });

  async function setCreatedAt(id: string, at: Date) {
    await withClient(database.url, (client) =>
      client.query('UPDATE jobs SET created_at = $2 WHERE id = $1', [id, at]),
    );
  }
  const ids = (page: { jobs: JobRecord[] }) => page.jobs.map((job) => job.id);

  it('stores tags and metadata and returns them; a job created without them has [] and {}', async () => {
    const { job } = await jobs.create({
      type: 'ops.tagged',
      payload: {},
      maxAttempts: 1,
      tags: ['tenant:42', 'import'],
      metadata: { source: 'crm', nested: { n: [1, 2] } },
    });
    expect(job).toMatchObject({
      tags: ['tenant:42', 'import'],
      metadata: { source: 'crm', nested: { n: [1, 2] } },
    });
    expect(await jobs.findById(job.id)).toEqual(job);

    const { job: plain } = await jobs.create({ type: 'ops.plain', payload: {}, maxAttempts: 1 });
    expect(plain).toMatchObject({ tags: [], metadata: {} });
  });

  it('stores the priority, 5 when none is given, each job of a group commit its own', async () => {
    const created = await Promise.all(
      [1, undefined, 10].map((priority) =>
        jobs.create({
          type: 'ops.priority',
          payload: {},
          maxAttempts: 1,
          ...(priority === undefined ? {} : { priority }),
        }),
      ),
    );
    expect(created.map(({ job }) => job.priority)).toEqual([1, 5, 10]);
  });

  it('keeps the tags of each job of one group-commit INSERT apart', async () => {
    const created = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        jobs.create({
          type: 'ops.batch',
          payload: { i },
          maxAttempts: 1,
          tags: i % 2 === 0 ? [`even`, `n${i}`] : [],
          metadata: { i },
        }),
      ),
    );
    created.forEach(({ job }, i) => {
      expect(job.tags).toEqual(i % 2 === 0 ? ['even', `n${i}`] : []);
      expect(job.metadata).toEqual({ i });
    });
  });

  it('createMany creates every item in one INSERT, answers a taken key with its job, and an unstorable item alone fails', async () => {
    const key = `many-${Date.now()}`;
    const { job: earlier } = await jobs.create({
      type: 'ops.many',
      payload: { earlier: true },
      maxAttempts: 1,
      idempotencyKey: `${key}-earlier`,
    });
    const statements: string[] = [];
    const query = db.pool.query.bind(db.pool);
    const spy = vi.spyOn(db.pool, 'query').mockImplementation(((text: string, values: unknown) => {
      statements.push(text);
      return query(text, values as never);
    }) as never);
    const outcomes = await jobs.createMany([
      { type: 'ops.many', payload: { i: 0 }, maxAttempts: 1, tags: ['many'], priority: 2 },
      { type: 'ops.many', payload: { i: 1 }, maxAttempts: 1, idempotencyKey: key },
      { type: 'ops.many', payload: { i: 2 }, maxAttempts: 1, idempotencyKey: key },
      { type: 'ops.many', payload: {}, maxAttempts: 1, metadata: { bad: '\u0000' } },
      { type: 'ops.many', payload: {}, maxAttempts: 1, idempotencyKey: `${key}-earlier` },
    ]);
    spy.mockRestore();

    expect(statements.filter((text) => text.includes('INSERT INTO jobs'))).toHaveLength(1);
    const [first, keyed, repeated, unstorable, taken] = outcomes;
    expect(first).toMatchObject({ created: true, job: { tags: ['many'], priority: 2 } });
    expect(keyed).toMatchObject({ created: true, job: { payload: { i: 1 } } });
    // the second item with the key gets the first's job: the caller compares the requests
    expect(repeated).toMatchObject({ created: false });
    expect(repeated && 'job' in repeated && repeated.job.id).toBe(
      keyed && 'job' in keyed && keyed.job.id,
    );
    expect(unstorable && 'error' in unstorable && unstorable.error.field).toBe('metadata');
    expect(taken).toEqual({ created: false, job: earlier });
  });

  it('refuses metadata jsonb cannot store, naming the field', async () => {
    const failure = await jobs
      .create({ type: 'ops.nul', payload: {}, maxAttempts: 1, metadata: { text: 'a\u0000b' } })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(JobJsonError);
    expect((failure as JobJsonError).field).toBe('metadata');
  });

  it('lists the jobs carrying every tag asked for, through the GIN index, paging as before', async () => {
    const base = Date.UTC(2021, 0, 1);
    const tagged: JobRecord[] = [];
    for (const [i, tags] of [['a', 'b'], ['a'], ['a', 'b', 'c'], ['b'], ['a', 'b']].entries()) {
      const { job } = await jobs.create({ type: 'ops.tags', payload: { i }, maxAttempts: 1, tags });
      await setCreatedAt(job.id, new Date(base + i));
      tagged.push(job);
    }
    const [ab, , abc, , ab2] = tagged;
    const first = await jobs.list({ type: 'ops.tags', tags: ['a', 'b'], limit: 2 });
    expect(ids(first)).toEqual([ab2?.id, abc?.id]);
    const second = await jobs.list({
      type: 'ops.tags',
      tags: ['a', 'b'],
      limit: 2,
      cursor: first.nextCursor as string,
    });
    expect(ids(second)).toEqual([ab?.id]);
    expect(second.nextCursor).toBeNull();
    expect(ids(await jobs.list({ tags: ['c'], limit: 10 }))).toEqual([abc?.id]);
    expect(ids(await jobs.list({ tags: ['nobody-has-this'], limit: 10 }))).toEqual([]);

    // with a sequential scan ruled out, the planner shows whether the index can answer at all
    const plan = await withClient(database.url, async (client) => {
      await client.query('SET enable_seqscan = off');
      return (await client.query(`EXPLAIN SELECT id FROM jobs WHERE tags @> ARRAY['a','b']`)).rows;
    });
    expect(plan.map((row) => row['QUERY PLAN']).join('\n')).toContain('jobs_tags_idx');
  });

  it('lists the jobs created within [createdAfter, createdBefore)', async () => {
    const base = Date.UTC(2022, 5, 1);
    const made: JobRecord[] = [];
    for (let i = 0; i < 4; i += 1) {
      const { job } = await jobs.create({ type: 'ops.window', payload: { i }, maxAttempts: 1 });
      await setCreatedAt(job.id, new Date(base + i * 60_000));
      made.push(job);
    }
    const at = (minutes: number) => new Date(base + minutes * 60_000);
    expect(
      ids(
        await jobs.list({
          type: 'ops.window',
          createdAfter: at(1),
          createdBefore: at(3),
          limit: 10,
        }),
      ),
    ).toEqual([made[2]?.id, made[1]?.id]);
    expect(ids(await jobs.list({ type: 'ops.window', createdAfter: at(3), limit: 10 }))).toEqual([
      made[3]?.id,
    ]);
    expect(ids(await jobs.list({ type: 'ops.window', createdBefore: at(1), limit: 10 }))).toEqual([
      made[0]?.id,
    ]);
  });
});

describe('job repository: ttl and the expired status (real PostgreSQL)', () => {
  let database: TestDatabase;
  let db: Db;
  let jobs: JobRepository;

  beforeAll(async () => {
    database = await createTestDatabase('job_ttl');
    await migrate({ databaseUrl: database.url });
    db = createDb(databaseOptions(loadConfig(migrateEnv, { DATABASE_URL: database.url })));
    jobs = createJobRepository(db);
  });
  afterAll(async () => {
    await db?.disconnect();
    await database?.drop();
  });

  /** Moves a job's creation (and so its deadline) `seconds` into the past. */
  async function createdAgo(id: string, seconds: number) {
    await db.pool.query(
      `UPDATE jobs SET created_at = created_at - make_interval(secs => $2),
                       expires_at = expires_at - make_interval(secs => $2)
        WHERE id = $1`,
      [id, seconds],
    );
  }
  const withTtl = async (ttl: number | null, runAt: Date | null = null) =>
    (await jobs.create({ type: 'ops.ttl', payload: {}, maxAttempts: 2, ttl, runAt })).job;

  it('counts the deadline from creation, or from runAt when there is one', async () => {
    const plain = await withTtl(60);
    expect(plain.ttl).toBe(60);
    expect(plain.expiresAt?.getTime()).toBe(plain.createdAt.getTime() + 60_000);

    const runAt = new Date(Date.now() + 3_600_000);
    const delayed = await withTtl(30, runAt);
    expect(delayed.expiresAt?.getTime()).toBe(runAt.getTime() + 30_000);

    const none = await withTtl(null);
    expect(none).toMatchObject({ ttl: null, expiresAt: null });
  });

  it('does not start a job past its deadline; expire ends it, once', async () => {
    const late = await withTtl(5);
    await createdAgo(late.id, 10);
    expect(await jobs.markRunning(late.id, 1, 2)).toBeNull();
    expect((await jobs.findById(late.id))?.status).toBe('queued');

    const expired = await jobs.expire(late.id);
    expect(expired).toMatchObject({ status: 'expired', attempts: 0, startedAt: null });
    expect(expired?.finishedAt).toBeInstanceOf(Date);
    expect(await jobs.expire(late.id)).toBeNull();
    expect(await jobs.markRunning(late.id, 1, 2)).toBeNull();
  });

  it('starts a job within its deadline, and never expires a job once it has started', async () => {
    const onTime = await withTtl(60);
    expect(await jobs.expire(onTime.id)).toBeNull();
    expect(await jobs.markRunning(onTime.id, 1, 2)).toEqual({
      attempt: 1,
      maxAttempts: 2,
      cancelRequested: false,
    });
    // its first attempt fails and it waits for a retry past the deadline: it still gets it
    await jobs.markFailed(onTime.id, { error: 'boom', final: false });
    await createdAgo(onTime.id, 120);
    expect(await jobs.expire(onTime.id)).toBeNull();
    expect(await jobs.markRunning(onTime.id, 2, 2)).toEqual({
      attempt: 2,
      maxAttempts: 2,
      cancelRequested: false,
    });
  });

  it('expireOverdue ends the queued jobs past their deadline only, a page at a time', async () => {
    await db.pool.query(`UPDATE jobs SET status = 'cancelled' WHERE status = 'queued'`);
    const overdue = [await withTtl(1), await withTtl(1), await withTtl(1)];
    for (const job of overdue) await createdAgo(job.id, 5);
    const onTime = await withTtl(600);
    const noTtl = await withTtl(null);
    await createdAgo(noTtl.id, 5);

    const first = await jobs.expireOverdue({ limit: 2 });
    const second = await jobs.expireOverdue({ limit: 2 });
    expect(first).toHaveLength(2);
    expect([...first, ...second].map((job) => job.id).sort()).toEqual(
      overdue.map((job) => job.id).sort(),
    );
    expect(second[0]?.queueJobId).toBe(second[0]?.id);
    expect(await jobs.expireOverdue({ limit: 2 })).toEqual([]);
    expect((await jobs.findById(onTime.id))?.status).toBe('queued');
    expect((await jobs.findById(noTtl.id))?.status).toBe('queued');
    const listed = await jobs.list({ status: 'expired', limit: 10 });
    expect(listed.jobs.map((job) => job.id)).toEqual(
      expect.arrayContaining(overdue.map((job) => job.id)),
    );
    expect(listed.jobs.every((job) => job.status === 'expired')).toBe(true);
  });

  it('prunes expired jobs like other finished ones', async () => {
    const late = await withTtl(1);
    await createdAgo(late.id, 5);
    await jobs.expire(late.id);
    await jobs.deleteFinishedBefore({ before: new Date(Date.now() + 60_000), batchSize: 100 });
    expect(await jobs.findById(late.id)).toBeNull();
  });
});

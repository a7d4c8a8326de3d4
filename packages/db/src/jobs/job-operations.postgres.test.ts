import { type Env, loadConfig } from '@repo/config';
import { createTestDatabase, type TestDatabase } from '@repo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

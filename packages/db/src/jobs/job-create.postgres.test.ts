import { BatchQueueFullError } from '@repo/batching';
import { type Env, loadConfig } from '@repo/config';
import { createTestDatabase, type TestDatabase } from '@repo/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../create-db.ts';
import { databaseOptions, migrateEnv } from '../env.ts';
import { migrate } from '../migrate/migrate.ts';
import { JobJsonError } from './job-errors.ts';
import {
  createJobRepository,
  JOB_CREATE_MAX_WAITING,
  type JobRepository,
} from './job-repository.ts';

// The create path under pressure: a table another session has locked, so the first INSERT hangs
// and the calls behind it wait for their turn (group commit).
describe('job repository create: abandoned and refused calls (real PostgreSQL)', () => {
  let database: TestDatabase;
  let db: Db;
  let jobs: JobRepository;

  beforeAll(async () => {
    database = await createTestDatabase('job_create');
    await migrate({ databaseUrl: database.url });
    const env: Env = { DATABASE_URL: database.url, DATABASE_POOL_SIZE: '5' };
    db = createDb({
      ...databaseOptions(loadConfig(migrateEnv, env)),
      applicationName: 'job-create-test',
    });
    jobs = createJobRepository(db);
  });
  afterAll(async () => {
    await db?.disconnect();
    await database?.drop();
  });

  /** Holds an exclusive lock on the jobs table until the returned function is called. */
  async function lockJobsTable(): Promise<() => Promise<void>> {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await client.query('BEGIN');
    await client.query('LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE');
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      await client.query('COMMIT');
      await client.end();
    };
  }

  async function rowIds(): Promise<string[]> {
    const { rows } = await db.pool.query<{ id: string }>('SELECT id FROM jobs ORDER BY id');
    return rows.map((row) => row.id);
  }

  /** Resolves once PostgreSQL shows an INSERT waiting for the table lock. */
  async function insertWaitingForLock(): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const waiting = await db.pool.query(
        `SELECT 1 FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock'
              AND query LIKE '%INSERT INTO jobs%'`,
      );
      if ((waiting.rowCount ?? 0) > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('no INSERT was seen waiting for the lock within 20 s');
  }

  it('writes nothing for calls abandoned before their INSERT was sent, and reports which were sent', async () => {
    const before = await rowIds();
    const unlock = await lockJobsTable();
    try {
      const sent: string[] = [];
      const controllers = Array.from({ length: 5 }, () => new AbortController());
      const create = (n: number) =>
        jobs.create(
          { type: 'locked', payload: { n }, maxAttempts: 1 },
          { signal: controllers[n]?.signal, onSent: (id) => sent.push(id) },
        );
      // the first INSERT goes out and waits for the lock; the four after it wait for their turn
      const first = create(0);
      await insertWaitingForLock();
      const rest = Promise.allSettled([1, 2, 3, 4].map(create));
      await new Promise((resolve) => setImmediate(resolve));
      expect(sent).toHaveLength(1);

      const abandoned = new Error('the request was abandoned');
      for (const controller of controllers) controller.abort(abandoned);
      await unlock();

      const { job, created } = await first;
      expect(created).toBe(true);
      expect(job.id).toBe(sent[0]);
      expect(await rest).toEqual(
        Array.from({ length: 4 }, () => ({ status: 'rejected', reason: abandoned })),
      );
      expect(await rowIds()).toEqual([...before, job.id].sort());
    } finally {
      await unlock();
    }
  }, 30_000);

  it(`refuses a call at once, writing nothing, while ${JOB_CREATE_MAX_WAITING} calls wait`, async () => {
    const before = await rowIds();
    const unlock = await lockJobsTable();
    try {
      const controller = new AbortController();
      const create = (n: number | string) =>
        jobs.create(
          { type: 'flood', payload: { n }, maxAttempts: 1 },
          { signal: controller.signal },
        );
      const first = create(0);
      await insertWaitingForLock();
      const waiting = Promise.allSettled(
        Array.from({ length: JOB_CREATE_MAX_WAITING }, (_, n) => create(n + 1)),
      );
      // one INSERT in flight and JOB_CREATE_MAX_WAITING calls waiting: the next is refused
      await expect(create('one too many')).rejects.toBeInstanceOf(BatchQueueFullError);

      controller.abort(new Error('done'));
      await unlock();
      await first;
      const outcomes = await waiting;
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(0);
      expect((await rowIds()).length).toBe(before.length + 1);
    } finally {
      await unlock();
    }
  }, 30_000);

  it('refuses a lone UTF-16 surrogate before it reaches PostgreSQL, in a value or a key', async () => {
    for (const payload of [{ text: 'a\ud800b' }, { '\udfffkey': 1 }, ['\ud83d']]) {
      await expect(jobs.create({ type: 'bad', payload, maxAttempts: 1 })).rejects.toThrow(
        JobJsonError,
      );
    }
    // a well-formed pair, and the text of an escape, are ordinary strings
    const { job } = await jobs.create({
      type: 'ok',
      payload: { emoji: '\u{1F600}', text: '\\ud800' },
      maxAttempts: 1,
    });
    expect(job.payload).toEqual({ emoji: '\u{1F600}', text: '\\ud800' });
  });
});

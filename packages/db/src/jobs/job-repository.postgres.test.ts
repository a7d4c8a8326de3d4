import { randomUUID } from 'node:crypto';
import { type Env, loadConfig } from '@repo/config';
import { createTestDatabase, freePort, type TestDatabase } from '@repo/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDb, type Db } from '../create-db.ts';
import { DatabaseUnavailableError } from '../database-unavailable.ts';
import { databaseOptions, migrateEnv } from '../env.ts';
import { migrate } from '../migrate/migrate.ts';
import { queryRows, withClient } from '../testing/migrations-fixture.ts';
import { createJobAttemptLog } from './job-attempts.ts';
import { InvalidCursorError, InvalidListLimitError, JobJsonError } from './job-errors.ts';
import type { JobRecord } from './job-record.ts';
import {
  createJobRepository,
  JOB_LIST_MAX_LIMIT,
  type JobRepository,
  type QueuedJobRelease,
  type StaleCursor,
} from './job-repository.ts';
import { encodeCursor } from './list-cursor.ts';

/** No BullMQ job holds these rows (the repository is tested alone): a queued one is cancelled. */
const noWorkerHolds: QueuedJobRelease = async () => 'released';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('job repository (real PostgreSQL)', () => {
  let database: TestDatabase;
  let db: Db;
  let jobs: JobRepository;

  beforeAll(async () => {
    database = await createTestDatabase('job_repository');
    await migrate({ databaseUrl: database.url });
    const env: Env = { DATABASE_URL: database.url, DATABASE_POOL_SIZE: '25' };
    db = createDb({
      ...databaseOptions(loadConfig(migrateEnv, env)),
      applicationName: 'job-repository-test',
    });
    jobs = createJobRepository(db);
  });
  afterAll(async () => {
    await db?.disconnect();
    await database?.drop();
  });

  /** Changes columns directly, to put rows into states (or times) a test needs. */
  async function setRow(id: string, assignments: string, params: unknown[] = []) {
    await withClient(database.url, (client) =>
      client.query(`UPDATE jobs SET ${assignments} WHERE id = $1`, [id, ...params]),
    );
  }
  async function countRows(where: string, params: unknown[]) {
    const [row] = await queryRows<{ n: number }>(
      database.url,
      `SELECT count(*)::int AS n FROM jobs WHERE ${where}`,
      params,
    );
    return row?.n;
  }
  async function queued(type: string, payload: unknown = {}) {
    return (await jobs.create({ type, payload, maxAttempts: 3 })).job;
  }

  describe('create', () => {
    it('inserts a queued job and returns the whole row', async () => {
      const runAt = new Date('2031-02-03T04:05:06.789Z');
      const { job, created } = await jobs.create({
        type: 'email.send',
        payload: { to: 'a@example.com', tags: ['x', 1, null], nested: { ok: true } },
        maxAttempts: 5,
        runAt,
      });
      expect(created).toBe(true);
      expect(job).toEqual({
        id: expect.stringMatching(UUID),
        type: 'email.send',
        payload: { to: 'a@example.com', tags: ['x', 1, null], nested: { ok: true } },
        status: 'queued',
        attempts: 0,
        maxAttempts: 5,
        result: null,
        error: null,
        idempotencyKey: null,
        runAt,
        schedulerId: null,
        queueJobId: null,
        concurrencyKey: null,
        tags: [],
        metadata: {},
        priority: 5,
        ttl: null,
        expiresAt: null,
        retryOf: null,
        createdAt: expect.any(Date),
        startedAt: null,
        attemptStartedAt: null,
        workerId: null,
        finishedAt: null,
        progress: null,
        cancelRequestedAt: null,
        updatedAt: expect.any(Date),
      } satisfies Record<keyof JobRecord, unknown>);
      expect(job.updatedAt.getTime()).toBe(job.createdAt.getTime());
      expect(Math.abs(job.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
    });

    it('returns the original job for a repeated idempotency key and never inserts a second', async () => {
      const key = `key-${randomUUID()}`;
      const first = await jobs.create({
        type: 'a',
        payload: { n: 1 },
        maxAttempts: 1,
        idempotencyKey: key,
      });
      const again = await jobs.create({
        type: 'b',
        payload: { n: 2 },
        maxAttempts: 9,
        idempotencyKey: key,
      });
      expect(first.created).toBe(true);
      expect(again).toEqual({ job: first.job, created: false });
      expect(again.job.payload).toEqual({ n: 1 });
      expect(await countRows('idempotency_key = $1', [key])).toBe(1);
    });

    it('creates exactly one job for 20 concurrent identical requests', async () => {
      const key = `key-${randomUUID()}`;
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          jobs.create({ type: 'race', payload: { n: 1 }, maxAttempts: 2, idempotencyKey: key }),
        ),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.job.id)).size).toBe(1);
      expect(await countRows('idempotency_key = $1', [key])).toBe(1);
    });

    it('refuses payloads that JSON cannot hold, and NUL, which jsonb cannot', async () => {
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      for (const payload of [undefined, () => 1, 10n, cyclic, { text: 'a\u0000b' }]) {
        await expect(jobs.create({ type: 'bad', payload, maxAttempts: 1 })).rejects.toBeInstanceOf(
          JobJsonError,
        );
      }
      expect(await countRows(`type = 'bad'`, [])).toBe(0);
      // a backslash followed by "u0000" is ordinary text
      const { job } = await jobs.create({ type: 'ok', payload: '\\u0000', maxAttempts: 1 });
      expect(job.payload).toBe('\\u0000');
    });
  });

  describe('findById', () => {
    it('finds a job by id, in any letter case', async () => {
      const job = await queued('find');
      expect(await jobs.findById(job.id)).toEqual(job);
      expect(await jobs.findById(job.id.toUpperCase())).toEqual(job);
    });

    it('returns null for an unknown id, and for a malformed one instead of failing', async () => {
      expect(await jobs.findById(randomUUID())).toBeNull();
      for (const id of ['', 'abc', '1', `${randomUUID()}x`, "' OR 1=1 --"]) {
        expect(await jobs.findById(id)).toBeNull();
      }
    });
  });

  describe('list', () => {
    /** Jobs of one type with created_at one millisecond apart, oldest first. */
    async function series(type: string, count: number, base = Date.UTC(2020, 0, 1)) {
      const created: JobRecord[] = [];
      for (let i = 0; i < count; i += 1) {
        const job = await queued(type, { i });
        await setRow(job.id, 'created_at = $2', [new Date(base + i)]);
        created.push({ ...job, createdAt: new Date(base + i) });
      }
      return created;
    }
    const ids = (page: { jobs: JobRecord[] }) => page.jobs.map((job) => job.id);

    it('pages newest first and ends with a null cursor', async () => {
      const made = await series('list.pages', 5);
      const first = await jobs.list({ type: 'list.pages', limit: 2 });
      expect(ids(first)).toEqual([made[4]?.id, made[3]?.id]);
      expect(first.nextCursor).toEqual(expect.any(String));
      const second = await jobs.list({
        type: 'list.pages',
        limit: 2,
        cursor: first.nextCursor as string,
      });
      expect(ids(second)).toEqual([made[2]?.id, made[1]?.id]);
      const third = await jobs.list({
        type: 'list.pages',
        limit: 2,
        cursor: second.nextCursor as string,
      });
      expect(ids(third)).toEqual([made[0]?.id]);
      expect(third.nextCursor).toBeNull();
    });

    it('has no next cursor when the last page is exactly full', async () => {
      const made = await series('list.exact', 4);
      const first = await jobs.list({ type: 'list.exact', limit: 2 });
      const second = await jobs.list({
        type: 'list.exact',
        limit: 2,
        cursor: first.nextCursor as string,
      });
      expect(ids(second)).toEqual([made[1]?.id, made[0]?.id]);
      expect(second.nextCursor).toBeNull();
      const all = await jobs.list({ type: 'list.exact', limit: 4 });
      expect(all.jobs).toHaveLength(4);
      expect(all.nextCursor).toBeNull();
    });

    it('returns an empty page when nothing matches', async () => {
      expect(await jobs.list({ type: 'list.nothing', limit: 10 })).toEqual({
        jobs: [],
        nextCursor: null,
      });
    });

    it('orders jobs created in the same millisecond by id, visiting each exactly once', async () => {
      const made = await series('list.ties', 1);
      for (let i = 0; i < 4; i += 1) {
        const job = await queued('list.ties');
        await setRow(job.id, 'created_at = $2', [made[0]?.createdAt]);
      }
      const expected = (await jobs.list({ type: 'list.ties', limit: 10 })).jobs.map((j) => j.id);
      expect(expected).toEqual([...expected].sort().reverse());
      const visited: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await jobs.list({ type: 'list.ties', limit: 1, cursor });
        visited.push(...ids(page));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(visited).toEqual(expected);
    });

    it('is stable while new jobs arrive between pages', async () => {
      const made = await series('list.arrivals', 4);
      const first = await jobs.list({ type: 'list.arrivals', limit: 2 });
      await queued('list.arrivals');
      await queued('list.arrivals');
      const second = await jobs.list({
        type: 'list.arrivals',
        limit: 2,
        cursor: first.nextCursor as string,
      });
      expect(ids(second)).toEqual([made[1]?.id, made[0]?.id]);
      expect(second.nextCursor).toBeNull();
    });

    it('filters by status and type', async () => {
      const [a, b, c] = await series('list.filter', 3);
      const other = await queued('list.filter.other');
      await jobs.cancel(b?.id as string, noWorkerHolds);
      expect(ids(await jobs.list({ type: 'list.filter', status: 'queued', limit: 10 }))).toEqual([
        c?.id,
        a?.id,
      ]);
      expect(ids(await jobs.list({ type: 'list.filter', status: 'cancelled', limit: 10 }))).toEqual(
        [b?.id],
      );
      const queuedAnyType = await jobs.list({ status: 'queued', limit: JOB_LIST_MAX_LIMIT });
      expect(ids(queuedAnyType)).toContain(other.id);
      expect(queuedAnyType.jobs.every((job) => job.status === 'queued')).toBe(true);
    });

    it(`accepts limits from 1 to ${JOB_LIST_MAX_LIMIT} and refuses others`, async () => {
      await series('list.limits', 2);
      expect((await jobs.list({ type: 'list.limits', limit: 1 })).jobs).toHaveLength(1);
      expect(
        (await jobs.list({ type: 'list.limits', limit: JOB_LIST_MAX_LIMIT })).jobs,
      ).toHaveLength(2);
      for (const limit of [0, -1, 1.5, Number.NaN, JOB_LIST_MAX_LIMIT + 1]) {
        await expect(jobs.list({ limit })).rejects.toBeInstanceOf(InvalidListLimitError);
      }
    });

    it('refuses a malformed or altered cursor with InvalidCursorError', async () => {
      const [job] = await series('list.cursor', 1);
      const valid = encodeCursor({ createdAt: job?.createdAt as Date, id: job?.id as string });
      const decoded = Buffer.from(valid, 'base64url').toString();
      const reencode = (text: string) => Buffer.from(text).toString('base64url');
      for (const cursor of [
        '',
        'not a cursor!',
        'abc',
        reencode('garbage'),
        reencode(decoded.replace(/.$/, 'z')),
        reencode(decoded.replace('Z_', '+01:00_')),
        reencode(`2020-13-45T00:00:00.000Z_${job?.id}`),
        reencode(`${decoded}_extra`),
        `${valid}=`,
        'x'.repeat(500),
      ]) {
        await expect(jobs.list({ limit: 5, cursor }), cursor).rejects.toBeInstanceOf(
          InvalidCursorError,
        );
      }
      await expect(jobs.list({ type: 'list.cursor', limit: 5, cursor: valid })).resolves.toEqual({
        jobs: [],
        nextCursor: null,
      });
    });
  });

  describe('cancel', () => {
    it('cancels a queued job, and answers conflict once it is no longer queued', async () => {
      const job = await queued('cancel');
      const outcome = await jobs.cancel(job.id, noWorkerHolds);
      expect(outcome).toMatchObject({
        outcome: 'cancelled',
        job: { id: job.id, status: 'cancelled' },
      });
      expect(outcome.outcome === 'cancelled' && outcome.job.finishedAt).toBeInstanceOf(Date);
      expect(await jobs.cancel(job.id, noWorkerHolds)).toMatchObject({
        outcome: 'conflict',
        job: { id: job.id, status: 'cancelled' },
      });
    });

    it('requests the cancellation of a running job and answers not_found for a missing or malformed id', async () => {
      const job = await queued('cancel.running');
      await jobs.markRunning(job.id, 1);
      expect(await jobs.cancel(job.id, noWorkerHolds)).toMatchObject({
        outcome: 'cancel_requested',
        job: { status: 'running', cancelRequestedAt: expect.any(Date) },
      });
      expect((await jobs.findById(job.id))?.status).toBe('running');
      expect(await jobs.cancel(randomUUID(), noWorkerHolds)).toEqual({ outcome: 'not_found' });
      expect(await jobs.cancel('nope', noWorkerHolds)).toEqual({ outcome: 'not_found' });
    });

    it('answers cancel_requested for a queued job a worker holds; its success then ends cancelled', async () => {
      const job = await queued('cancel.held');
      const release = vi.fn<QueuedJobRelease>(async () => 'held');
      const outcome = await jobs.cancel(job.id, release);
      expect(outcome).toMatchObject({
        outcome: 'cancel_requested',
        job: { status: 'queued', cancelRequestedAt: expect.any(Date), finishedAt: null },
      });
      expect(release).toHaveBeenCalledWith(expect.objectContaining({ id: job.id }));
      const now = new Date();
      expect(
        await jobs.markSucceeded(
          job.id,
          { done: true },
          {
            attempt: 1,
            startedAt: now,
            finishedAt: now,
            recordsStart: true,
            onNotRecorded: vi.fn(),
          },
        ),
      ).toBe(true);
      expect(await jobs.findById(job.id)).toMatchObject({
        status: 'cancelled',
        result: { done: true },
        attempts: 1,
      });
      // a running job is not offered to `release`: its worker holds it
      const running = await queued('cancel.held');
      await jobs.markRunning(running.id, 1);
      const untouched = vi.fn<QueuedJobRelease>(async () => 'released');
      expect((await jobs.cancel(running.id, untouched)).outcome).toBe('cancel_requested');
      expect(untouched).not.toHaveBeenCalled();
    });

    it('answers cancel_requested when the worker that held the job started it meanwhile', async () => {
      const job = await queued('cancel.started');
      // the worker writes running between the request and the release
      const outcome = await jobs.cancel(job.id, async () => {
        await jobs.markRunning(job.id, 1);
        return 'released';
      });
      expect(outcome).toMatchObject({ outcome: 'cancel_requested', job: { status: 'running' } });
      expect(await jobs.markRunning(job.id, 1)).toMatchObject({ cancelRequested: true });
    });

    it('lets exactly one of several concurrent cancels win', async () => {
      const job = await queued('cancel.race');
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, () => jobs.cancel(job.id, noWorkerHolds)),
      );
      expect(outcomes.filter((o) => o.outcome === 'cancelled')).toHaveLength(1);
      expect(outcomes.filter((o) => o.outcome === 'conflict')).toHaveLength(9);
    });
  });

  describe('worker transitions', () => {
    it('markRunning starts an attempt; a redelivery keeps startedAt and counts the attempt', async () => {
      const job = await queued('run');
      expect(await jobs.markRunning(job.id, 1)).toEqual({
        attempt: 1,
        maxAttempts: 3,
        cancelRequested: false,
      });
      const running = await jobs.findById(job.id);
      expect(running).toMatchObject({ id: job.id, status: 'running', attempts: 1 });
      expect(running?.startedAt).toBeInstanceOf(Date);
      await setRow(job.id, `started_at = started_at - interval '1 minute'`);
      const firstStart = (await jobs.findById(job.id))?.startedAt;
      expect(await jobs.markRunning(job.id, 2)).toEqual({
        attempt: 2,
        maxAttempts: 3,
        cancelRequested: false,
      });
      expect(await jobs.findById(job.id)).toMatchObject({
        status: 'running',
        attempts: 2,
        startedAt: firstStart,
      });
      // the same attempt delivered again (a stalled job) counts once
      expect(await jobs.markRunning(job.id, 2, 3)).toEqual({
        attempt: 2,
        maxAttempts: 3,
        cancelRequested: false,
      });
    });

    it('markRunning records each attempt: its start and the worker running it; the first start stays', async () => {
      const job = await queued('run.traced');
      const first = createJobRepository(db, { workerId: 'worker-host-a' });
      const second = createJobRepository(db, { workerId: 'worker-host-b' });
      await first.markRunning(job.id, 1);
      const one = await jobs.findById(job.id);
      expect(one).toMatchObject({ workerId: 'worker-host-a', attempts: 1 });
      expect(one?.attemptStartedAt).toEqual(one?.startedAt);
      await first.markFailed(job.id, { error: 'first try failed', final: false });
      // the first attempt a minute in the past, so the second's start is seen to move
      await setRow(
        job.id,
        `started_at = started_at - interval '1 minute', attempt_started_at = attempt_started_at - interval '1 minute'`,
      );
      const firstStart = (await jobs.findById(job.id))?.startedAt;
      await second.markRunning(job.id, 2);
      await second.markSucceeded(job.id, null);
      const done = await jobs.findById(job.id);
      expect(done).toMatchObject({ workerId: 'worker-host-b', attempts: 2, startedAt: firstStart });
      const secondStart = done?.attemptStartedAt?.getTime() ?? 0;
      expect(secondStart - (firstStart?.getTime() ?? 0)).toBeGreaterThanOrEqual(60_000);
      expect(done?.finishedAt?.getTime()).toBeGreaterThanOrEqual(secondStart);
      // a repository without a worker id (the api's) records none
      const other = await queued('run.traced');
      await jobs.markRunning(other.id, 1);
      expect(await jobs.findById(other.id)).toMatchObject({ workerId: null });
    });

    it('markRunning goes on counting from the attempts used before a BullMQ job with fewer attempts', async () => {
      const job = (await jobs.create({ type: 'run.carried', payload: {}, maxAttempts: 5 })).job;
      // two attempts used; reconcile enqueued it again with the three it had left
      await setRow(job.id, 'attempts = 2');
      expect(await jobs.markRunning(job.id, 1, 3)).toEqual({
        attempt: 3,
        maxAttempts: 5,
        cancelRequested: false,
      });
      expect(await jobs.markRunning(job.id, 3, 3)).toEqual({
        attempt: 5,
        maxAttempts: 5,
        cancelRequested: false,
      });
      // a BullMQ job given more attempts than the row allows counts from 1
      expect(await jobs.markRunning(job.id, 1, 9)).toEqual({
        attempt: 1,
        maxAttempts: 5,
        cancelRequested: false,
      });
    });

    it('markRunning returns null for a cancelled, finished, missing or malformed job', async () => {
      const cancelled = await queued('run.skip');
      await jobs.cancel(cancelled.id, noWorkerHolds);
      const done = await queued('run.skip');
      await jobs.markRunning(done.id, 1);
      await jobs.markSucceeded(done.id, { ok: true });
      const failed = await queued('run.skip');
      await jobs.markFailed(failed.id, { error: 'x', final: true });
      for (const id of [cancelled.id, done.id, failed.id, randomUUID(), 'x']) {
        expect(await jobs.markRunning(id, 2)).toBeNull();
      }
      expect((await jobs.findById(cancelled.id))?.status).toBe('cancelled');
      expect((await jobs.findById(done.id))?.attempts).toBe(1);
    });

    it('markSucceeded stores the result, clears the last error and finishes the job', async () => {
      const job = await queued('succeed');
      await jobs.markRunning(job.id, 1);
      await jobs.markFailed(job.id, { error: 'first try failed', final: false });
      await jobs.markRunning(job.id, 2);
      expect(await jobs.markSucceeded(job.id, { sent: 3, ids: ['a'] })).toBe(true);
      const done = await jobs.findById(job.id);
      expect(done).toMatchObject({
        status: 'succeeded',
        result: { sent: 3, ids: ['a'] },
        error: null,
        attempts: 2,
      });
      expect(done?.finishedAt).toBeInstanceOf(Date);
      // only a running job can succeed: a second report changes nothing
      expect(await jobs.markSucceeded(job.id, { other: true })).toBe(false);
      expect((await jobs.findById(job.id))?.result).toEqual({ sent: 3, ids: ['a'] });
    });

    it('markSucceeded with its attempt adds the history row in the same statement', async () => {
      const job = await queued('succeed.attempt');
      await jobs.markRunning(job.id, 1);
      const at = (ms: number) => new Date(Date.parse('2026-12-02T10:00:00.000Z') + ms);
      const onNotRecorded = vi.fn();
      expect(
        await jobs.markSucceeded(
          job.id,
          { ok: true },
          { attempt: 1, startedAt: at(0), finishedAt: at(75), httpStatus: 204, onNotRecorded },
        ),
      ).toBe(true);
      expect(await createJobAttemptLog(db).listForJob(job.id)).toEqual([
        {
          attempt: 1,
          startedAt: at(0),
          finishedAt: at(75),
          outcome: 'succeeded',
          error: null,
          workerId: null,
          httpStatus: 204,
          durationMs: 75,
        },
      ]);
      expect(onNotRecorded).not.toHaveBeenCalled();
      // running jobs that end in the same batch each get their own row, and only theirs
      const [a, b] = [await queued('succeed.attempt'), await queued('succeed.attempt')];
      await Promise.all([jobs.markRunning(a.id, 1), jobs.markRunning(b.id, 1)]);
      const attempt = { startedAt: at(0), finishedAt: at(10), onNotRecorded };
      await Promise.all([
        jobs.markSucceeded(a.id, null, { ...attempt, attempt: 1 }),
        jobs.markSucceeded(b.id, null),
      ]);
      expect(await createJobAttemptLog(db).listForJob(a.id)).toHaveLength(1);
      expect(await createJobAttemptLog(db).listForJob(b.id)).toEqual([]);
    });

    it('markSucceeded with recordsStart takes a queued job to succeeded and records its start', async () => {
      const workerJobs = createJobRepository(db, { workerId: 'worker-a' });
      const job = await queued('succeed.deferred');
      const startedAt = new Date(Date.now() - 50);
      const attempt = { startedAt, finishedAt: new Date(), onNotRecorded: vi.fn() };
      expect(
        await workerJobs.markSucceeded(
          job.id,
          { ok: 1 },
          { ...attempt, attempt: 1, recordsStart: true },
        ),
      ).toBe(true);
      const done = await jobs.findById(job.id);
      expect(done).toMatchObject({
        status: 'succeeded',
        result: { ok: 1 },
        attempts: 1,
        workerId: 'worker-a',
        startedAt,
        attemptStartedAt: startedAt,
        progress: null,
      });
      expect(done?.finishedAt).toBeInstanceOf(Date);
      expect(await createJobAttemptLog(db).listForJob(job.id)).toMatchObject([
        { attempt: 1, outcome: 'succeeded', workerId: 'worker-a', startedAt },
      ]);
      // a retry that succeeds keeps the first attempt's start and counts the attempt given
      const retried = await queued('succeed.deferred');
      await jobs.markRunning(retried.id, 1);
      await jobs.markFailed(retried.id, { error: 'Error: first', final: false });
      const firstStart = (await jobs.findById(retried.id))?.startedAt;
      expect(
        await jobs.markSucceeded(retried.id, null, { ...attempt, attempt: 2, recordsStart: true }),
      ).toBe(true);
      expect(await jobs.findById(retried.id)).toMatchObject({
        status: 'succeeded',
        attempts: 2,
        startedAt: firstStart,
        attemptStartedAt: startedAt,
      });
      // finished, or cancelled with no worker holding it: nothing to record
      expect(
        await jobs.markSucceeded(job.id, null, { ...attempt, attempt: 1, recordsStart: true }),
      ).toBe(false);
      const cancelled = await queued('succeed.deferred');
      await jobs.cancel(cancelled.id, noWorkerHolds);
      expect(
        await jobs.markSucceeded(cancelled.id, null, {
          ...attempt,
          attempt: 1,
          recordsStart: true,
        }),
      ).toBe(false);
      // without recordsStart only a running job can succeed
      const waiting = await queued('succeed.deferred');
      expect(await jobs.markSucceeded(waiting.id, null, { ...attempt, attempt: 1 })).toBe(false);
      expect((await jobs.findById(waiting.id))?.status).toBe('queued');
    });

    it('markSucceeded writes the status when its history row cannot be written, and says why', async () => {
      const job = await queued('succeed.attempt-lost');
      await jobs.markRunning(job.id, 1);
      const onNotRecorded = vi.fn();
      const now = new Date();
      // an HTTP status out of the column's range makes the history row, and only it, fail
      expect(
        await jobs.markSucceeded(job.id, null, {
          attempt: 1,
          startedAt: now,
          finishedAt: now,
          httpStatus: 2 ** 40,
          onNotRecorded,
        }),
      ).toBe(true);
      expect((await jobs.findById(job.id))?.status).toBe('succeeded');
      expect(await createJobAttemptLog(db).listForJob(job.id)).toEqual([]);
      expect(onNotRecorded).toHaveBeenCalledTimes(1);
      expect(String(onNotRecorded.mock.calls[0]?.[0])).toMatch(/out of range/);
    });

    it('markSucceeded with no result stores NULL', async () => {
      const job = await queued('succeed.null');
      await jobs.markRunning(job.id, 1);
      expect(await jobs.markSucceeded(job.id, null)).toBe(true);
      expect(await jobs.findById(job.id)).toMatchObject({ status: 'succeeded', result: null });
      const [row] = await queryRows(
        database.url,
        'SELECT result IS NULL AS sql_null FROM jobs WHERE id = $1',
        [job.id],
      );
      expect(row).toEqual({ sql_null: true });
      expect(await jobs.markSucceeded(randomUUID(), 1)).toBe(false);
    });

    it('markFailed queues the job again for a retry, or fails it for good when final', async () => {
      const job = await queued('fail');
      await jobs.markRunning(job.id, 1);
      const retry = await jobs.markFailed(job.id, { error: 'Error: timeout', final: false });
      expect(retry).toMatchObject({ status: 'queued', error: 'Error: timeout', finishedAt: null });
      await jobs.markRunning(job.id, 2);
      const final = await jobs.markFailed(job.id, {
        error: 'Error: still\u0000 broken',
        final: true,
      });
      expect(final).toMatchObject({
        status: 'failed',
        error: 'Error: still\uFFFD broken',
        attempts: 2,
      });
      expect(final?.finishedAt).toBeInstanceOf(Date);
      // a finished job stays finished
      expect(await jobs.markFailed(job.id, { error: 'late', final: false })).toBeNull();
      expect((await jobs.findById(job.id))?.status).toBe('failed');
    });
  });

  describe('ensureScheduled', () => {
    it('creates the row the first time and leaves it alone afterwards', async () => {
      const id = randomUUID();
      const input = {
        id,
        queueJobId: 'repeat:daily-report:1893456000000',
        type: 'report.daily',
        payload: { day: '2030-01-01' },
        maxAttempts: 3,
        schedulerId: 'daily-report',
      };
      expect(await jobs.ensureScheduled(input)).toEqual({ created: true });
      await jobs.markRunning(id, 1);
      expect(
        await jobs.ensureScheduled({
          ...input,
          queueJobId: 'repeat:other:1',
          payload: { day: 'other' },
          maxAttempts: 1,
        }),
      ).toEqual({ created: false });
      expect(await jobs.findById(id)).toMatchObject({
        id,
        type: 'report.daily',
        payload: { day: '2030-01-01' },
        maxAttempts: 3,
        schedulerId: 'daily-report',
        queueJobId: 'repeat:daily-report:1893456000000',
        status: 'running',
        idempotencyKey: null,
      });
    });

    it('records the BullMQ job id on a row an older version created without it', async () => {
      const id = randomUUID();
      await withClient(database.url, (client) =>
        client.query(
          `INSERT INTO jobs (id, type, payload, max_attempts, scheduler_id)
           VALUES ($1, 'report.daily', '{}', 3, 'daily-report')`,
          [id],
        ),
      );
      const input = {
        id,
        queueJobId: 'repeat:daily-report:1',
        type: 'report.daily',
        payload: {},
        maxAttempts: 3,
        schedulerId: 'daily-report',
      };
      expect(await jobs.ensureScheduled(input)).toEqual({ created: false });
      expect((await jobs.findById(id))?.queueJobId).toBe('repeat:daily-report:1');
    });
  });

  describe('findStale and requeue', () => {
    // each test its own year, older than the one before: a test sees only its own stale rows
    let year = 2006;
    const old = (minutes: number) => new Date(Date.UTC(year, 0, 1, 0, minutes));
    beforeEach(() => {
      year -= 5;
    });

    it('walks queued and running jobs untouched since the cutoff in (updatedAt, id) order, page by page', async () => {
      const [a, b, c, d, fresh, finished] = await Promise.all(
        Array.from({ length: 6 }, () => queued('stale')),
      ).then(
        (made) => made.map((job) => job.id) as [string, string, string, string, string, string],
      );
      await setRow(a, 'updated_at = $2', [old(3)]);
      await setRow(b, 'updated_at = $2', [old(1)]);
      await jobs.markRunning(c, 1);
      await setRow(c, 'updated_at = $2', [old(2)]);
      // d shares c's time: the id breaks the tie
      await setRow(d, 'updated_at = $2', [old(2)]);
      await jobs.markRunning(finished, 1);
      await jobs.markSucceeded(finished, null);
      await setRow(finished, 'updated_at = $2', [old(0)]);
      // a scheduled run recorded before its BullMQ id was: it cannot be looked up
      const legacy = randomUUID();
      await withClient(database.url, (client) =>
        client.query(
          `INSERT INTO jobs (id, type, payload, max_attempts, scheduler_id, updated_at)
           VALUES ($1, 'stale', '{}', 1, 'hourly', $2)`,
          [legacy, old(0)],
        ),
      );

      const before = old(10);
      const all = await jobs.findStale({ before, limit: 10 });
      const [c2, d2] = [c, d].sort();
      expect(all.map((job) => job.id)).toEqual([b, c2, d2, a]);
      expect(all.find((job) => job.id === c)).toEqual({
        id: c,
        status: 'running',
        queueJobId: c,
        attempts: 1,
        maxAttempts: 3,
        updatedAt: old(2),
      });
      expect(all.map((job) => job.id)).not.toContain(fresh);

      const first = await jobs.findStale({ before, limit: 2 });
      expect(first.map((job) => job.id)).toEqual([b, c2]);
      const second = await jobs.findStale({ before, after: first.at(-1), limit: 2 });
      expect(second.map((job) => job.id)).toEqual([d2, a]);
      expect(await jobs.findStale({ before, after: second.at(-1), limit: 2 })).toEqual([]);
      await expect(jobs.findStale({ before, limit: 0 })).rejects.toBeInstanceOf(
        InvalidListLimitError,
      );
    });

    it('requeue puts a stale job back to queued, giving back a running attempt, unless it changed', async () => {
      const [waiting, running, moved] = await Promise.all([
        queued('requeue'),
        queued('requeue'),
        queued('requeue'),
      ]).then((made) => made.map((job) => job.id) as [string, string, string]);
      await jobs.markRunning(running, 1);
      await jobs.markRunning(running, 2);
      for (const id of [waiting, running, moved]) await setRow(id, 'updated_at = $2', [old(5)]);
      const stale = await jobs.findStale({ before: old(10), limit: 10 });
      const seen = (id: string) => stale.find((job) => job.id === id) as StaleCursor;

      await setRow(waiting, 'error = $2, updated_at = $3', ['Error: attempt 1 failed', old(5)]);
      expect(await jobs.requeue(seen(waiting))).toMatchObject({
        id: waiting,
        status: 'queued',
        attempts: 0,
        error: 'Error: attempt 1 failed',
      });
      const again = await jobs.requeue(seen(running), 'lost while running');
      expect(again).toMatchObject({ status: 'queued', attempts: 1, error: 'lost while running' });
      expect(again?.updatedAt.getTime()).toBeGreaterThan(old(5).getTime());
      // a worker started it after it was read: it is left as it is
      await jobs.markRunning(moved, 1);
      expect(await jobs.requeue(seen(moved), 'too late')).toBeNull();
      expect(await jobs.findById(moved)).toMatchObject({ status: 'running', error: null });
    });

    it('requeue moves a scheduled run to its row id as its BullMQ id', async () => {
      const id = randomUUID();
      await jobs.ensureScheduled({
        id,
        queueJobId: 'repeat:hourly:1',
        type: 'requeue.scheduled',
        payload: {},
        maxAttempts: 2,
        schedulerId: 'hourly',
      });
      await setRow(id, 'updated_at = $2', [old(5)]);
      const [stale] = await jobs.findStale({ before: old(10), limit: 1 });
      expect(stale).toMatchObject({ id, queueJobId: 'repeat:hourly:1' });
      expect(await jobs.requeue(stale as StaleCursor, 'lost')).toMatchObject({ queueJobId: id });
    });
  });

  describe('deleteFinishedBefore', () => {
    it('deletes finished jobs older than the cutoff in batches, and nothing else', async () => {
      const longAgo = new Date(Date.UTC(1999, 0, 1));
      const cutoff = new Date(Date.UTC(2000, 0, 1));
      const finishOld = async (finish: (id: string) => Promise<unknown>) => {
        const job = await queued('prune');
        await finish(job.id);
        await setRow(job.id, 'finished_at = $2', [longAgo]);
        return job.id;
      };
      const oldIds: string[] = [];
      for (let i = 0; i < 7; i += 1) {
        oldIds.push(
          await finishOld(async (id) => {
            if (i % 3 === 0) return jobs.cancel(id, noWorkerHolds);
            await jobs.markRunning(id, 1);
            return i % 3 === 1
              ? jobs.markSucceeded(id, null)
              : jobs.markFailed(id, { error: 'e', final: true });
          }),
        );
      }
      const recent = await queued('prune');
      await jobs.cancel(recent.id, noWorkerHolds);
      const stillQueued = await queued('prune');
      await setRow(stillQueued.id, 'created_at = $2, updated_at = $2', [longAgo]);

      expect(await jobs.deleteFinishedBefore({ before: cutoff, batchSize: 3 })).toBe(7);
      expect(await countRows('id = ANY($1::uuid[])', [oldIds])).toBe(0);
      expect(await jobs.findById(recent.id)).not.toBeNull();
      expect(await jobs.findById(stillQueued.id)).not.toBeNull();
      expect(await jobs.deleteFinishedBefore({ before: cutoff, batchSize: 3 })).toBe(0);

      // a count that is an exact multiple of the batch size
      for (let i = 0; i < 4; i += 1)
        oldIds.push(await finishOld((id) => jobs.cancel(id, noWorkerHolds)));
      expect(await jobs.deleteFinishedBefore({ before: cutoff, batchSize: 2 })).toBe(4);
      await expect(jobs.deleteFinishedBefore({ before: cutoff, batchSize: 0 })).rejects.toThrow(
        /batchSize/,
      );
    });
  });

  describe('group commit', () => {
    /** A repository on its own pool, with every statement it sends recorded. */
    function observed() {
      const own = createDb({
        ...databaseOptions(loadConfig(migrateEnv, { DATABASE_URL: database.url })),
        applicationName: 'job-repository-batching-test',
      });
      const query = vi.spyOn(own.pool, 'query');
      // a statement's verb: its first word, or after its CTEs (WITH … ) UPDATE jobs …) the one
      // that writes jobs
      const verbOf = (text: string) =>
        text.trimStart().startsWith('WITH')
          ? /\)\s*(\w+)\s+(?:INTO\s+)?jobs\b/.exec(text)?.[1]
          : /^\s*(\w+)/.exec(text)?.[1];
      const statements = (verb: string) =>
        query.mock.calls.filter(([text]) => verbOf(String(text)) === verb).length;
      return {
        jobs: createJobRepository(own),
        statements,
        [Symbol.asyncDispose]: () => own.disconnect(),
      };
    }

    it('sends concurrent creates as one INSERT, each caller getting its own row', async () => {
      await using target = observed();
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, n) =>
          target.jobs.create({ type: 'batch.create', payload: { n }, maxAttempts: n + 1 }),
        ),
      );
      expect(target.statements('INSERT')).toBe(1);
      results.forEach(({ job, created }, n) => {
        expect(created).toBe(true);
        expect(job).toMatchObject({ type: 'batch.create', payload: { n }, maxAttempts: n + 1 });
      });
      expect(new Set(results.map(({ job }) => job.id)).size).toBe(30);
      expect(await countRows(`type = 'batch.create'`, [])).toBe(30);
    });

    it('creates one job for a key repeated within a batch; the others read it', async () => {
      await using target = observed();
      const key = `key-${randomUUID()}`;
      const keyed = Array.from({ length: 5 }, () =>
        target.jobs.create({
          type: 'batch.key',
          payload: {},
          maxAttempts: 1,
          idempotencyKey: key,
        }),
      );
      const plain = Array.from({ length: 5 }, () =>
        target.jobs.create({ type: 'batch.key', payload: {}, maxAttempts: 1 }),
      );
      const [keyedResults, plainResults] = await Promise.all([
        Promise.all(keyed),
        Promise.all(plain),
      ]);
      expect(target.statements('INSERT')).toBe(1);
      expect(keyedResults.filter((result) => result.created)).toHaveLength(1);
      expect(new Set(keyedResults.map((result) => result.job.id)).size).toBe(1);
      expect(plainResults.every((result) => result.created)).toBe(true);
      expect(await countRows(`type = 'batch.key'`, [])).toBe(6);
    });

    it('fails only the item PostgreSQL refuses; the rest of its batch is stored', async () => {
      await using target = observed();
      const outcomes = await Promise.allSettled(
        [1, 2, 2 ** 31, 4].map((maxAttempts) =>
          target.jobs.create({ type: 'batch.split', payload: { maxAttempts }, maxAttempts }),
        ),
      );
      expect(outcomes.map((outcome) => outcome.status)).toEqual([
        'fulfilled',
        'fulfilled',
        'rejected',
        'fulfilled',
      ]);
      expect((outcomes[2] as PromiseRejectedResult).reason).toMatchObject({
        message: expect.stringContaining('out of range for type integer'),
      });
      // the batch, then each item alone
      expect(target.statements('INSERT')).toBe(5);
      expect(await countRows(`type = 'batch.split'`, [])).toBe(3);
    });

    it('batches the worker transitions across jobs and keeps two changes of one row apart', async () => {
      await using target = observed();
      const made = await Promise.all(
        Array.from({ length: 20 }, (_, n) =>
          target.jobs.create({ type: 'batch.transitions', payload: { n }, maxAttempts: 3 }),
        ),
      );
      const ids = made.map(({ job }) => job.id);

      const running = await Promise.all(ids.map((id) => target.jobs.markRunning(id, 1)));
      expect(target.statements('UPDATE')).toBe(1);
      expect(running).toEqual(
        ids.map(() => ({ attempt: 1, maxAttempts: 3, cancelRequested: false })),
      );
      expect(await countRows(`type = 'batch.transitions' AND status = 'running'`, [])).toBe(20);

      const [first, ...others] = ids as [string, ...string[]];
      const [firstDone, again, ...othersDone] = await Promise.all([
        target.jobs.markSucceeded(first.toUpperCase(), { n: 0 }),
        target.jobs.markSucceeded(first, { n: 'again' }),
        ...others.map((id, n) => target.jobs.markSucceeded(id, { n: n + 1 })),
      ]);
      // the repeated id waited for a statement of its own, which found the job finished
      expect(target.statements('UPDATE')).toBe(3);
      expect([firstDone, again]).toEqual([true, false]);
      expect(othersDone).toEqual(others.map(() => true));
      expect(await target.jobs.findById(first)).toMatchObject({ result: { n: 0 } });
      for (const [n, id] of others.entries()) {
        expect(await target.jobs.findById(id)).toMatchObject({
          status: 'succeeded',
          result: { n: n + 1 },
        });
      }
      expect(await countRows(`type = 'batch.transitions' AND status = 'succeeded'`, [])).toBe(20);
    });

    it('sends starts and successes of different jobs as one UPDATE, each judged by its own row', async () => {
      await using target = observed();
      const [toStart, toFinish, notRunning, finished] = await Promise.all(
        Array.from({ length: 4 }, () =>
          target.jobs.create({ type: 'batch.mixed', payload: {}, maxAttempts: 3 }),
        ),
      ).then((made) => made.map(({ job }) => job.id) as [string, string, string, string]);
      await target.jobs.markRunning(toFinish, 1);
      await target.jobs.markRunning(finished, 1);
      await target.jobs.markSucceeded(finished, { early: true });
      const before = target.statements('UPDATE');

      const outcomes = await Promise.all([
        target.jobs.markRunning(toStart, 2),
        target.jobs.markSucceeded(toFinish, { done: true }),
        target.jobs.markSucceeded(notRunning, { never: true }),
        target.jobs.markRunning(finished, 2),
      ]);
      expect(target.statements('UPDATE') - before).toBe(1);
      expect(outcomes).toEqual([
        { attempt: 2, maxAttempts: 3, cancelRequested: false },
        true,
        false,
        null,
      ]);
      expect(await target.jobs.findById(toStart)).toMatchObject({
        status: 'running',
        attempts: 2,
        result: null,
        finishedAt: null,
      });
      const done = await target.jobs.findById(toFinish);
      expect(done).toMatchObject({ status: 'succeeded', attempts: 1, result: { done: true } });
      expect(done?.finishedAt).toBeInstanceOf(Date);
      expect(await target.jobs.findById(notRunning)).toMatchObject({
        status: 'queued',
        result: null,
      });
      expect(await target.jobs.findById(finished)).toMatchObject({
        status: 'succeeded',
        attempts: 1,
        result: { early: true },
      });
    });

    it('fails every item of a batch with DatabaseUnavailableError when PostgreSQL is unreachable', async () => {
      const port = await freePort();
      const own = createDb(
        databaseOptions(
          loadConfig(migrateEnv, {
            DATABASE_URL: `postgresql://postgres@127.0.0.1:${port}/app`,
            DATABASE_CONNECT_TIMEOUT: '1s',
          }),
        ),
      );
      try {
        const query = vi.spyOn(own.pool, 'query');
        const unreachable = createJobRepository(own);
        const outcomes = await Promise.allSettled(
          Array.from({ length: 3 }, () =>
            unreachable.create({ type: 'batch.down', payload: {}, maxAttempts: 1 }),
          ),
        );
        for (const outcome of outcomes) {
          expect(outcome.status).toBe('rejected');
          const reason = (outcome as PromiseRejectedResult).reason;
          expect(reason).toBeInstanceOf(DatabaseUnavailableError);
          expect(reason.message).toContain('create a job');
        }
        // not retried item by item: an outage is not one item's fault
        expect(query).toHaveBeenCalledTimes(1);
      } finally {
        await own.disconnect();
      }
    });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_TYPE_BASE } from './problems.ts';
import { type ApiUnderTest, auth, startApiUnderTest } from './testing/api-under-test.ts';

const REQUEST_TIMEOUT_MS = 2_000;
const CREATE_MAX_WAITING = 5;

interface Answer {
  status: number;
  retryAfter: string | null;
  body: Record<string, unknown>;
  ms: number;
}

// POST /v1/jobs while another session holds a lock on the jobs table: the first INSERT goes out
// and waits for the lock, and the requests behind it wait for their turn (group commit).
describe('POST /v1/jobs abandoned or refused while PostgreSQL is stuck (real PostgreSQL and Redis)', () => {
  let api: ApiUnderTest;

  beforeAll(async () => {
    api = await startApiUnderTest('api-abandoned', {
      env: { REQUEST_TIMEOUT: `${REQUEST_TIMEOUT_MS}ms` },
      // the repository's bound, made small so a handful of requests fill it
      createMaxWaiting: CREATE_MAX_WAITING,
    });
  });
  afterAll(async () => {
    await api?.close();
  });

  async function post(body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const started = performance.now();
    const res = await fetch(`${api.url}/v1/jobs`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    return {
      status: res.status,
      retryAfter: res.headers.get('retry-after'),
      body: (await res.json()) as Record<string, unknown>,
      ms: performance.now() - started,
    };
  }

  /** Holds an exclusive lock on the jobs table until the returned function is called. */
  async function lockJobsTable(): Promise<() => Promise<void>> {
    const client = await api.db.pool.connect();
    await client.query('BEGIN');
    await client.query('LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE');
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      await client.query('COMMIT');
      client.release();
    };
  }

  async function insertWaitingForLock(): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const { rowCount } = await api.db.pool.query(
        `SELECT 1 FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock'
            AND query LIKE '%INSERT INTO jobs%'`,
      );
      if ((rowCount ?? 0) > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('no INSERT was seen waiting for the lock within 20 s');
  }

  async function jobIds(): Promise<string[]> {
    const { rows } = await api.db.pool.query<{ id: string }>('SELECT id FROM jobs');
    return rows.map((row) => row.id);
  }

  async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const found = await probe();
      if (found !== undefined) return found;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  it('answers 503 saying whether each job may exist, and creates only the one whose INSERT had gone out', async () => {
    const before = new Set(await jobIds());
    const unlock = await lockJobsTable();
    try {
      const inFlight = post({ type: 'system.echo', payload: { data: 'in flight' } });
      await insertWaitingForLock();
      const waiting = [1, 2, 3, 4].map((n) =>
        post(
          { type: 'system.echo', payload: { data: `waiting ${n}` } },
          n % 2 === 0 ? { 'Idempotency-Key': `abandoned-${n}-${Date.now()}` } : {},
        ),
      );

      const first = await inFlight;
      expect(first.status).toBe(503);
      expect(first.body).toMatchObject({
        type: `${PROBLEM_TYPE_BASE}request-timeout`,
        jobMayExist: true,
        jobId: expect.any(String),
      });
      const id = first.body.jobId as string;
      expect(first.body.links).toEqual({ job: `/v1/jobs/${id}` });
      expect(first.body.detail).toContain(`GET /v1/jobs/${id}`);
      for (const answer of await Promise.all(waiting)) {
        expect(answer.status).toBe(503);
        expect(answer.body).toMatchObject({
          type: `${PROBLEM_TYPE_BASE}request-timeout`,
          jobMayExist: false,
        });
        expect(answer.body).not.toHaveProperty('jobId');
        expect(answer.body.detail).toContain('No job was created');
      }

      await unlock();
      // the in-flight INSERT commits, and its handler, still running, queues the job
      await waitFor('the job in Redis', async () => (await api.queue.getJob(id)) ?? undefined);
      const created = (await jobIds()).filter((jobId) => !before.has(jobId));
      expect(created).toEqual([id]);
      const waitingInRedis = await api.queue.getJobs(['prioritized']);
      expect(
        waitingInRedis
          .filter((job) => job.id !== undefined && !before.has(job.id))
          .map((j) => j.id),
      ).toEqual([id]);
      await waitFor('the log line', async () =>
        api.logs().find((line) => line.msg === 'job recorded after its request was abandoned'),
      );
    } finally {
      await unlock();
    }
  }, 60_000);

  it('with an Idempotency-Key, says the job may exist without naming an id, and a retry gets it', async () => {
    const key = `abandoned-in-flight-${Date.now()}`;
    const body = { type: 'system.echo', payload: { data: 'keyed' } };
    const unlock = await lockJobsTable();
    let answer: Answer;
    try {
      const inFlight = post(body, { 'Idempotency-Key': key });
      await insertWaitingForLock();
      answer = await inFlight;
    } finally {
      await unlock();
    }
    expect(answer.status).toBe(503);
    expect(answer.body).toMatchObject({ jobMayExist: true });
    expect(answer.body).not.toHaveProperty('jobId');
    expect(answer.body.detail).toContain('retry with the same Idempotency-Key');

    const retried = await post(body, { 'Idempotency-Key': key });
    expect([200, 202]).toContain(retried.status);
    expect(await api.queue.getJob(retried.body.id as string)).toBeDefined();
  }, 60_000);

  it(`sheds load with 503 server-busy at once while ${CREATE_MAX_WAITING} jobs wait for their INSERT`, async () => {
    const before = new Set(await jobIds());
    const unlock = await lockJobsTable();
    try {
      const inFlight = post({ type: 'system.echo', payload: { data: 'in flight' } });
      await insertWaitingForLock();
      // a few more than may wait, all at once: the bound refuses the extra ones at once
      const answers = await Promise.all(
        Array.from({ length: CREATE_MAX_WAITING + 3 }, (_, n) =>
          post({ type: 'system.echo', payload: { data: n } }),
        ),
      );
      const refused = answers.filter((a) => a.body.type === `${PROBLEM_TYPE_BASE}server-busy`);
      const timedOut = answers.filter((a) => a.body.type === `${PROBLEM_TYPE_BASE}request-timeout`);
      expect(refused).toHaveLength(3);
      expect(timedOut).toHaveLength(CREATE_MAX_WAITING);
      for (const answer of refused) {
        expect(answer.status).toBe(503);
        expect(answer.retryAfter).toBe('5');
        expect(answer.body.jobMayExist).toBe(false);
        expect(answer.body.detail).toContain('No job was created');
        expect(answer.ms).toBeLessThan(REQUEST_TIMEOUT_MS);
      }
      for (const answer of timedOut) expect(answer.body.jobMayExist).toBe(false);

      const first = await inFlight;
      expect(first.body.jobMayExist).toBe(true);
      await unlock();
      const id = first.body.jobId as string;
      await waitFor('the job in Redis', async () => (await api.queue.getJob(id)) ?? undefined);
      expect((await jobIds()).filter((jobId) => !before.has(jobId))).toEqual([id]);
    } finally {
      await unlock();
    }
    // and the API takes jobs again
    expect((await post({ type: 'system.echo', payload: {} })).status).toBe(202);
  }, 60_000);
});

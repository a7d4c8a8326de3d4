import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PROBLEM_TYPE_BASE } from '../problems.ts';
import { type ApiUnderTest, auth, startApiUnderTest } from '../testing/api-under-test.ts';

// Tags, metadata and the listing's filters; priority; ttl and the expired status; retries; batches.

const echo = (data: unknown = 'hello') => ({ type: 'system.echo', payload: { data } });

/** The fields a 400 names, as "part.field" paths. */
function invalidFields(body: { errors?: { path: (string | number)[] }[] }): string[] {
  return (body.errors ?? []).map((issue) => issue.path.join('.'));
}

describe('job operations (real PostgreSQL and Redis)', () => {
  let api: ApiUnderTest;
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    request(api.url)
      .post('/v1/jobs')
      .set(auth)
      .set(headers)
      .send(body as object);
  const list = (query: string) => request(api.url).get(`/v1/jobs?${query}`).set(auth);

  beforeAll(async () => {
    api = await startApiUnderTest('api-job-operations');
  });
  afterAll(async () => {
    await api?.close();
  });

  describe('tags and metadata', () => {
    it('records both, returns them on every job, and [] and {} when none were given', async () => {
      const res = await post({
        ...echo(),
        tags: ['tenant:42', 'import.v2'],
        metadata: { requestedBy: 'ops', ids: [1, 2] },
      });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({
        tags: ['tenant:42', 'import.v2'],
        metadata: { requestedBy: 'ops', ids: [1, 2] },
      });
      const fetched = await request(api.url).get(`/v1/jobs/${res.body.id}`).set(auth).expect(200);
      expect(fetched.body).toMatchObject({ tags: ['tenant:42', 'import.v2'] });

      const plain = await post(echo());
      expect(plain.body).toMatchObject({ tags: [], metadata: {} });
    });

    it('refuses bad tags and metadata with a 400 naming the field', async () => {
      const cases: [unknown, string][] = [
        [{ tags: ['has space'] }, 'body.tags.0'],
        [{ tags: [''] }, 'body.tags.0'],
        [{ tags: ['x'.repeat(65)] }, 'body.tags.0'],
        [{ tags: Array.from({ length: 11 }, (_, i) => `t${i}`) }, 'body.tags'],
        [{ tags: ['same', 'same'] }, 'body.tags'],
        [{ tags: 'solo' }, 'body.tags'],
        [{ metadata: [1, 2] }, 'body.metadata'],
        [{ metadata: 'text' }, 'body.metadata'],
        [{ metadata: { big: 'x'.repeat(4_096) } }, 'body.metadata'],
      ];
      for (const [fields, path] of cases) {
        const res = await post({ ...echo(), ...(fields as object) });
        expect(res.status, JSON.stringify(fields).slice(0, 80)).toBe(400);
        expect(res.body.type).toBe(`${PROBLEM_TYPE_BASE}validation-failed`);
        expect(invalidFields(res.body)).toContain(path);
      }
    });

    it('accepts metadata of exactly 4,096 bytes of JSON', async () => {
      // {"k":"…"} is 10 bytes around the value
      const res = await post({ ...echo(), metadata: { k: 'é'.repeat((4_096 - 10) / 2) } });
      expect(res.status).toBe(202);
    });

    it('refuses metadata jsonb cannot store (NUL) naming metadata, not the payload', async () => {
      const res = await post({ ...echo(), metadata: { text: 'a\u0000b' } });
      expect(res.status).toBe(400);
      expect(invalidFields(res.body)).toEqual(['body.metadata.text']);
    });

    it('treats the same Idempotency-Key with other tags or metadata as another request', async () => {
      const key = { 'Idempotency-Key': `ops-${Date.now()}` };
      expect((await post({ ...echo(), tags: ['a'] }, key)).status).toBe(202);
      expect((await post({ ...echo(), tags: ['a'] }, key)).status).toBe(200);
      expect((await post({ ...echo(), tags: ['b'] }, key)).status).toBe(422);
      expect((await post({ ...echo(), tags: ['a'], metadata: { m: 1 } }, key)).status).toBe(422);
    });
  });

  describe('priority', () => {
    it('records the priority (5 when none is given) and queues the job with it', async () => {
      const urgent = await post({ ...echo(), priority: 1 });
      expect(urgent.status).toBe(202);
      expect(urgent.body.priority).toBe(1);
      expect((await api.queue.getJob(urgent.body.id))?.opts.priority).toBe(1);

      const plain = await post(echo());
      expect(plain.body.priority).toBe(5);
      const queued = await api.queue.getJob(plain.body.id);
      expect(queued?.opts.priority).toBe(5);
      expect(await queued?.getState()).toBe('prioritized');
    });

    it('refuses a priority outside 1-10 or not a whole number, naming the field', async () => {
      for (const priority of [0, 11, 2.5, '1', -1]) {
        const res = await post({ ...echo(), priority });
        expect(res.status, String(priority)).toBe(400);
        expect(invalidFields(res.body)).toEqual(['body.priority']);
      }
    });

    it('treats the same Idempotency-Key with another priority as another request', async () => {
      const key = { 'Idempotency-Key': `priority-${Date.now()}` };
      expect((await post({ ...echo(), priority: 2 }, key)).status).toBe(202);
      expect((await post({ ...echo(), priority: 2 }, key)).status).toBe(200);
      expect((await post({ ...echo(), priority: 3 }, key)).status).toBe(422);
    });
  });

  describe('ttl and the expired status', () => {
    it('records the ttl and the deadline it gives: from runAt when there is one, else creation', async () => {
      const res = await post({ ...echo(), ttl: 90 });
      expect(res.status).toBe(202);
      expect(res.body.ttl).toBe(90);
      expect(Date.parse(res.body.expiresAt)).toBe(Date.parse(res.body.createdAt) + 90_000);

      const runAt = new Date(Date.now() + 3_600_000).toISOString();
      const delayed = await post({ ...echo(), runAt, ttl: 60 });
      expect(Date.parse(delayed.body.expiresAt)).toBe(Date.parse(runAt) + 60_000);

      expect((await post(echo())).body).toMatchObject({ ttl: null, expiresAt: null });
    });

    it('refuses a ttl outside 1-31,536,000 seconds or not a whole number, naming the field', async () => {
      for (const ttl of [0, 31_536_001, 1.5, '60']) {
        const res = await post({ ...echo(), ttl });
        expect(res.status, String(ttl)).toBe(400);
        expect(invalidFields(res.body)).toEqual(['body.ttl']);
      }
      expect((await post({ ...echo(), ttl: 31_536_000 })).status).toBe(202);
    });

    it('lists expired jobs with status=expired, and a long poll ends at expired', async () => {
      const { id } = (await post({ ...echo(), ttl: 1, tags: ['expiry'] })).body;
      await api.db.pool.query(
        `UPDATE jobs SET expires_at = now() - interval '1 second' WHERE id = $1`,
        [id],
      );
      expect((await api.jobs.expire(id))?.status).toBe('expired');

      const listed = await list('status=expired&tag=expiry').expect(200);
      expect(listed.body.jobs.map((job: { id: string }) => job.id)).toEqual([id]);
      const waited = await request(api.url).get(`/v1/jobs/${id}`).set(auth).set('Prefer', 'wait=5');
      expect(waited.body).toMatchObject({ status: 'expired', attempts: 0, startedAt: null });
    });
  });

  describe('retry', () => {
    /** A job posted with `fields` and then failed for good, as a worker would record it. */
    async function failedJob(fields: Record<string, unknown> = {}) {
      const { id } = (await post({ ...echo(), ...fields })).body;
      await api.jobs.markRunning(id, 1, 1);
      await api.jobs.markFailed(id, { error: 'Error: boom', final: true });
      return id as string;
    }
    const retry = (id: string) => request(api.url).post(`/v1/jobs/${id}/retry`).set(auth);
    const bulk = (body: unknown) =>
      request(api.url)
        .post('/v1/jobs/retry')
        .set(auth)
        .send(body as object);

    it('creates a new job with the same type, payload, tags, metadata, priority and key; the original is unchanged', async () => {
      const id = await failedJob({
        tags: ['retry-me'],
        metadata: { order: 7 },
        priority: 2,
        concurrencyKey: 'tenant-7',
        maxAttempts: 4,
        ttl: 600,
      });
      const before = await api.jobs.findById(id);

      const res = await retry(id);
      expect(res.status).toBe(202);
      expect(res.headers.location).toBe(`/v1/jobs/${res.body.id}`);
      expect(res.body).toMatchObject({
        type: 'system.echo',
        status: 'queued',
        payload: { data: 'hello' },
        tags: ['retry-me'],
        metadata: { order: 7 },
        priority: 2,
        concurrencyKey: 'tenant-7',
        maxAttempts: 4,
        ttl: 600,
        attempts: 0,
        error: null,
        retryOf: id,
      });
      expect(res.body.id).not.toBe(id);
      expect(await api.jobs.findById(id)).toEqual(before);
      const queued = await api.queue.getJob(res.body.id);
      expect(queued?.opts.priority).toBe(2);

      // a job has one retry: asking again answers with it
      const again = await retry(id);
      expect(again.status).toBe(200);
      expect(again.body.id).toBe(res.body.id);
    });

    it('retries cancelled and expired jobs too', async () => {
      const cancelled = (await post(echo())).body.id;
      await request(api.url).post(`/v1/jobs/${cancelled}/cancel`).set(auth).expect(200);
      expect((await retry(cancelled)).status).toBe(202);

      const expiring = (await post({ ...echo(), ttl: 1 })).body.id;
      await api.db.pool.query(
        `UPDATE jobs SET expires_at = now() - interval '1 second' WHERE id = $1`,
        [expiring],
      );
      await api.jobs.expire(expiring);
      expect((await retry(expiring)).body).toMatchObject({ status: 'queued', retryOf: expiring });
    });

    it('answers 409 job-not-retryable for a queued or succeeded job, 404 for an unknown one', async () => {
      const queuedId = (await post(echo())).body.id;
      const res = await retry(queuedId);
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({
        type: `${PROBLEM_TYPE_BASE}job-not-retryable`,
        jobId: queuedId,
        jobStatus: 'queued',
      });

      const succeeded = (await post(echo())).body.id;
      await api.jobs.markRunning(succeeded, 1, 1);
      await api.jobs.markSucceeded(succeeded, null);
      expect((await retry(succeeded)).status).toBe(409);

      const unknown = await retry('00000000-0000-4000-8000-000000000000');
      expect(unknown.status).toBe(404);
      expect(unknown.body.type).toBe(`${PROBLEM_TYPE_BASE}job-not-found`);
      expect((await retry('not-a-uuid')).status).toBe(400);
    });

    it('bulk: retries the matching jobs once each; a retry that failed in turn gets a retry of its own', async () => {
      const tag = `bulk${Date.now()}`;
      const failed = [await failedJob({ tags: [tag] }), await failedJob({ tags: [tag] })];
      await failedJob({ tags: ['elsewhere'] });
      const cancelled = (await post({ ...echo(), tags: [tag] })).body.id;
      await request(api.url).post(`/v1/jobs/${cancelled}/cancel`).set(auth).expect(200);

      const dry = await bulk({ status: 'failed', tag, dryRun: true }).expect(200);
      expect(dry.body).toEqual({ matched: 2, jobs: [] });
      const retriesOf = async (ids: string[]) =>
        (
          await api.db.pool.query<{ id: string }>(
            'SELECT id FROM jobs WHERE retry_of = ANY($1::uuid[]) ORDER BY id',
            [ids],
          )
        ).rows.map((row) => row.id);
      expect(await retriesOf(failed)).toEqual([]);

      const first = await bulk({ status: 'failed', tag }).expect(200);
      expect(first.body.matched).toBe(2);
      expect([...first.body.jobs].sort()).toEqual(await retriesOf(failed));
      for (const retryId of first.body.jobs) {
        expect(await api.queue.getJob(retryId)).toBeDefined();
      }

      // run again: the same retries, none created
      const second = await bulk({ status: 'failed', tag }).expect(200);
      expect([...second.body.jobs].sort()).toEqual([...first.body.jobs].sort());
      expect(await retriesOf(failed)).toHaveLength(2);

      // one retry fails too: the next bulk retry retries it, and still not its source again
      const failedRetry = first.body.jobs[0] as string;
      await api.jobs.markRunning(failedRetry, 1, 1);
      await api.jobs.markFailed(failedRetry, { error: 'Error: again', final: true });
      const third = await bulk({ status: 'failed', tag }).expect(200);
      expect(third.body.matched).toBe(3);
      expect(await retriesOf(failed)).toHaveLength(2);
      const [retryOfRetry] = await retriesOf([failedRetry]);
      expect(third.body.jobs).toContain(retryOfRetry);

      // limit, and the other filters
      expect((await bulk({ status: 'failed', tag, limit: 1, dryRun: true })).body.matched).toBe(1);
      expect((await bulk({ status: 'cancelled', tag })).body.matched).toBe(1);
      expect(
        (
          await bulk({
            status: 'failed',
            tag,
            createdAfter: new Date(Date.now() + 60_000).toISOString(),
          })
        ).body.matched,
      ).toBe(0);
    });

    it('bulk: answers 400 naming the field for a status that cannot be retried, a limit past 1,000 or a bad date', async () => {
      for (const [body, path] of [
        [{ status: 'queued' }, 'body.status'],
        [{}, 'body.status'],
        [{ status: 'failed', limit: 1_001 }, 'body.limit'],
        [{ status: 'failed', createdBefore: 'soon' }, 'body.createdBefore'],
        [{ status: 'failed', type: 'no.such' }, 'body.type'],
        [{ status: 'failed', dryRun: 'yes' }, 'body.dryRun'],
      ] as const) {
        const res = await bulk(body);
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(invalidFields(res.body)).toContain(path);
      }
    });
  });

  describe('POST /v1/jobs/batch', () => {
    const batch = (jobs: unknown) =>
      request(api.url)
        .post('/v1/jobs/batch')
        .set(auth)
        .send({ jobs } as object);

    it('answers each item on its own, in request order, with one INSERT and one addBulk for the valid ones', async () => {
      const key = `batch-${Date.now()}`;
      const inserts = vi.spyOn(api.db.pool, 'query');
      const addBulk = vi.spyOn(api.queue, 'addBulk');
      const res = await batch([
        { ...echo('a'), tags: ['batch'], priority: 1 },
        { type: 'system.echo', payload: { delayMs: 'slow' } },
        { type: 'no.such.type', payload: {} },
        { ...echo('keyed'), idempotencyKey: key },
        { ...echo('keyed'), idempotencyKey: key },
        { ...echo('other'), idempotencyKey: key },
        { ...echo('nul'), metadata: { text: 'a\u0000b' } },
        { ...echo('b'), concurrencyKey: 'tenant-9', unknownField: 1 },
        { ...echo('c'), concurrencyKey: 'tenant-9' },
      ]);
      const insertCalls = inserts.mock.calls.filter(([text]) =>
        String(text).includes('INSERT INTO jobs'),
      );
      const bulkCalls = addBulk.mock.calls;
      inserts.mockRestore();
      addBulk.mockRestore();

      expect(res.status).toBe(200);
      const statuses = res.body.results.map((result: { status: number }) => result.status);
      expect(statuses).toEqual([202, 400, 400, 202, 200, 422, 400, 400, 202]);
      const [a, badPayload, unknownType, keyed, repeated, reused, nul, unknownField, c] =
        res.body.results;
      expect(a.job).toMatchObject({ status: 'queued', tags: ['batch'], priority: 1 });
      expect(invalidFields(badPayload.error)).toEqual(['body.jobs.1.payload.delayMs']);
      expect(unknownType.error.type).toBe(`${PROBLEM_TYPE_BASE}unknown-job-type`);
      expect(repeated.job.id).toBe(keyed.job.id);
      expect(keyed.job.idempotencyKey).toBe(key);
      expect(reused.error).toMatchObject({
        type: `${PROBLEM_TYPE_BASE}idempotency-key-reused`,
        jobId: keyed.job.id,
      });
      expect(invalidFields(nul.error)).toEqual(['body.jobs.6.metadata.text']);
      expect(invalidFields(unknownField.error)).toEqual(['body.jobs.7']);
      expect(c.job).toMatchObject({ concurrencyKey: 'tenant-9' });

      expect(insertCalls).toHaveLength(1);
      expect(bulkCalls).toHaveLength(1);
      expect(bulkCalls[0]?.[0].map((job) => job.opts?.jobId).sort()).toEqual(
        [a.job.id, keyed.job.id, c.job.id].sort(),
      );
      for (const created of [a, keyed, c]) {
        expect((await api.jobs.findById(created.job.id))?.status).toBe('queued');
      }
    });

    it('takes 1,000 jobs in one request, within the default BODY_LIMIT for small items', async () => {
      const jobs = Array.from({ length: 1_000 }, (_, i) => ({ ...echo(i), tags: ['thousand'] }));
      const res = await batch(jobs);
      expect(res.status).toBe(200);
      expect(res.body.results).toHaveLength(1_000);
      expect(res.body.results.every((result: { status: number }) => result.status === 202)).toBe(
        true,
      );
      expect((await list('tag=thousand&limit=100')).body.jobs).toHaveLength(100);
    });

    it('refuses an empty batch, more than 1,000 items, or no list, naming the field', async () => {
      for (const jobs of [[], Array.from({ length: 1_001 }, () => ({})), 'x', null]) {
        const res = await batch(jobs);
        expect(res.status).toBe(400);
        expect(invalidFields(res.body)).toEqual(['body.jobs']);
      }
    });
  });

  describe('GET /v1/jobs filters', () => {
    it('lists jobs carrying every tag given (repeatable), paged, with links that keep the filters', async () => {
      const run = `run${Date.now()}`;
      const made: string[] = [];
      for (const tags of [[run, 'x'], [run], [run, 'x', 'y'], [run, 'x']]) {
        made.push((await post({ ...echo(), tags })).body.id);
      }
      const first = await list(`tag=${run}&tag=x&limit=2`).expect(200);
      expect(first.body.jobs.map((job: { id: string }) => job.id)).toEqual([made[3], made[2]]);
      expect(first.body.links.next).toContain(`tag=${run}&tag=x`);
      const second = await request(api.url).get(first.body.links.next).set(auth).expect(200);
      expect(second.body.jobs.map((job: { id: string }) => job.id)).toEqual([made[0]]);
      expect(second.body.nextCursor).toBeNull();

      const one = await list(`tag=${run}`).expect(200);
      expect(one.body.jobs).toHaveLength(4);
    });

    it('lists jobs created within createdAfter and createdBefore', async () => {
      const before = new Date(Date.now() - 1).toISOString();
      const tag = `window${Date.now()}`;
      const { id } = (await post({ ...echo(), tags: [tag] })).body;
      const created = (await api.jobs.findById(id))?.createdAt as Date;
      const after = new Date(created.getTime() + 1).toISOString();

      const inside = await list(`tag=${tag}&createdAfter=${before}&createdBefore=${after}`);
      expect(inside.body.jobs.map((job: { id: string }) => job.id)).toEqual([id]);
      expect((await list(`tag=${tag}&createdAfter=${after}`)).body.jobs).toEqual([]);
      expect((await list(`tag=${tag}&createdBefore=${before}`)).body.jobs).toEqual([]);
      expect(inside.body.links.self).toContain(`createdAfter=${encodeURIComponent(before)}`);
    });

    it('answers 400 naming the parameter for a bad tag or date', async () => {
      for (const [query, path] of [
        ['createdAfter=yesterday', 'query.createdAfter'],
        ['createdBefore=2026-13-01T00:00:00Z', 'query.createdBefore'],
        ['createdAfter=2026-12-01', 'query.createdAfter'],
        ['tag=has%20space', 'query.tag'],
        [Array.from({ length: 11 }, (_, i) => `tag=t${i}`).join('&'), 'query.tag'],
      ]) {
        const res = await list(query as string);
        expect(res.status, query).toBe(400);
        expect(invalidFields(res.body), query).toContain(path);
      }
    });
  });
});

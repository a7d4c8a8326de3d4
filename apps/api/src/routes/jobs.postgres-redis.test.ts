import { jobTypes, splitQueuedJobData } from '@repo/jobs';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_TYPE_BASE } from '../problems.ts';
import {
  type ApiUnderTest,
  auth,
  startApiUnderTest,
  TEST_METRICS_TOKEN,
} from '../testing/api-under-test.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const echo = (data: unknown = 'hello') => ({ type: 'system.echo', payload: { data } });

describe('jobs endpoints (real PostgreSQL and Redis)', () => {
  let api: ApiUnderTest;
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    request(api.url)
      .post('/v1/jobs')
      .set(auth)
      .set(headers)
      .send(body as object);

  beforeAll(async () => {
    api = await startApiUnderTest('api-jobs');
  });
  afterAll(async () => {
    await api?.close();
  });

  describe('POST /v1/jobs', () => {
    it('records the job as queued, enqueues it under the row id and answers 202 with a link', async () => {
      const res = await post(echo({ n: 1 }));

      expect(res.status).toBe(202);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const { id } = res.body;
      expect(id).toMatch(UUID);
      expect(res.headers.location).toBe(`/v1/jobs/${id}`);
      expect(res.body).toMatchObject({
        id,
        type: 'system.echo',
        status: 'queued',
        payload: { data: { n: 1 } },
        attempts: 0,
        maxAttempts: 3,
        runAt: null,
        idempotencyKey: null,
        schedulerId: null,
        links: { self: `/v1/jobs/${id}` },
      });
      expect(Date.parse(res.body.createdAt)).not.toBeNaN();

      const row = await api.jobs.findById(id);
      expect(row?.status).toBe('queued');
      const queued = await api.queue.getJob(id);
      expect(queued?.name).toBe('system.echo');
      // the payload, and what the row has counted (so the worker need not read it to start)
      expect(splitQueuedJobData(queued?.data)).toEqual({
        payload: { data: { n: 1 } },
        concurrencyKey: null,
        rowCount: { attemptsUsed: 0, expiresAt: null },
      });
      expect(queued?.opts.attempts).toBe(3);
      expect(await queued?.getState()).toBe('prioritized');
    });

    it('records a concurrencyKey, returns it, and queues it with the job', async () => {
      const res = await post({ ...echo('keyed'), concurrencyKey: 'tenant-42' });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ concurrencyKey: 'tenant-42', waitingFor: null });
      expect((await api.jobs.findById(res.body.id))?.concurrencyKey).toBe('tenant-42');
      const queued = await api.queue.getJob(res.body.id);
      expect(splitQueuedJobData(queued?.data)).toEqual({
        payload: { data: 'keyed' },
        concurrencyKey: 'tenant-42',
        rowCount: { attemptsUsed: 0, expiresAt: null },
      });
      const fetched = await request(api.url).get(`/v1/jobs/${res.body.id}`).set(auth).expect(200);
      expect(fetched.body).toMatchObject({ concurrencyKey: 'tenant-42', waitingFor: null });
    });

    it('refuses a concurrencyKey that is empty, too long or has other characters', async () => {
      for (const concurrencyKey of ['', 'x'.repeat(129), 'tenant 1', 'tenant/1', 42]) {
        const res = await post({ ...echo(), concurrencyKey });
        expect(res.status).toBe(400);
        expect(res.body.type).toBe(`${PROBLEM_TYPE_BASE}validation-failed`);
      }
    });

    it('makes a job with a future runAt a delayed job and keeps maxAttempts', async () => {
      const runAt = new Date(Date.now() + 3_600_000).toISOString();
      const res = await post({ ...echo(), runAt, maxAttempts: 7 });

      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ runAt, maxAttempts: 7, status: 'queued' });
      const queued = await api.queue.getJob(res.body.id);
      expect(await queued?.getState()).toBe('delayed');
      expect(queued?.opts.attempts).toBe(7);
      expect(queued?.opts.delay).toBeGreaterThan(3_500_000);
    });

    it('answers 400 listing the enqueueable types for an unknown or maintenance-only type', async () => {
      const enqueueable = Object.values(jobTypes)
        .filter((definition) => definition.enqueueable)
        .map((definition) => definition.type);
      for (const type of ['no.such.type', 'maintenance.prune']) {
        const res = await post({ type, payload: {} });
        expect(res.status).toBe(400);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.body).toMatchObject({
          type: `${PROBLEM_TYPE_BASE}unknown-job-type`,
          status: 400,
          knownTypes: enqueueable,
        });
        expect(res.body.knownTypes).toContain('system.echo');
        expect(res.body.knownTypes).not.toContain('maintenance.prune');
      }
    });

    it('answers 400 with the zod issues when the payload does not match the type', async () => {
      const res = await post({ type: 'webhook.deliver', payload: { url: 'ftp://x', body: {} } });

      expect(res.status).toBe(400);
      expect(res.body.type).toBe(`${PROBLEM_TYPE_BASE}validation-failed`);
      expect(res.body.errors).toEqual([
        expect.objectContaining({ path: ['body', 'payload', 'url'], message: expect.any(String) }),
      ]);
    });

    it('bounds maxAttempts and runAt', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ maxAttempts: 0 }, 'maxAttempts'],
        [{ maxAttempts: 26 }, 'maxAttempts'],
        [{ maxAttempts: 2.5 }, 'maxAttempts'],
        [{ runAt: '2030-01-01T00:00:00' }, 'runAt'],
        [{ runAt: 'tomorrow' }, 'runAt'],
        [{ runAt: new Date(Date.now() + 400 * 86_400_000).toISOString() }, 'runAt'],
      ];
      for (const [fields, field] of cases) {
        const res = await post({ ...echo(), ...fields });
        expect(res.status, JSON.stringify(fields)).toBe(400);
        expect(res.body.errors[0].path).toEqual(['body', field]);
      }
    });
    it('refuses strings that are not well-formed Unicode, NUL and numbers beyond a double with a 400 naming the field, storing nothing', async () => {
      const countRows = async () =>
        Number((await api.db.pool.query('SELECT count(*) AS n FROM jobs')).rows[0].n);
      const before = await countRows();
      const cases: [string, (string | number)[]][] = [
        ['{"type":"system.echo","payload":{"data":"\\ud800"}}', ['body', 'payload', 'data']],
        [
          '{"type":"system.echo","payload":{"data":["ok","a\\udfffb"]}}',
          ['body', 'payload', 'data', 1],
        ],
        [
          '{"type":"system.echo","payload":{"data":{"\\ud83dkey":1}}}',
          ['body', 'payload', 'data', '\ud83dkey'],
        ],
        [
          '{"type":"system.echo","payload":{"data":{"n":"a\\u0000b"}}}',
          ['body', 'payload', 'data', 'n'],
        ],
        ['{"type":"system.echo","payload":{"data":-1e400}}', ['body', 'payload', 'data']],
      ];
      for (const [body, path] of cases) {
        const res = await request(api.url)
          .post('/v1/jobs')
          .set(auth)
          .set('Content-Type', 'application/json')
          .send(body);
        expect(res.status, body).toBe(400);
        expect(res.body.type).toBe(`${PROBLEM_TYPE_BASE}validation-failed`);
        expect(res.body.errors).toEqual([expect.objectContaining({ path })]);
      }
      // a well-formed pair (an emoji written as escapes) is fine
      const emoji = await request(api.url)
        .post('/v1/jobs')
        .set(auth)
        .set('Content-Type', 'application/json')
        .send('{"type":"system.echo","payload":{"data":"\\ud83d\\ude00"}}');
      expect(emoji.status).toBe(202);
      expect(emoji.body.payload.data).toBe('\u{1F600}');
      expect(await countRows()).toBe(before + 1);
    });

    it('accepts payloads nested up to 64 levels and refuses deeper ones', async () => {
      const nested = (levels: number) =>
        JSON.parse(`${'['.repeat(levels)}${']'.repeat(levels)}`) as unknown;
      // the body (level 1) > payload (2) > 62 arrays = 64 levels
      const deepest = await post({ type: 'system.echo', payload: { data: nested(62) } });
      expect(deepest.status).toBe(202);
      const deeper = await post({ type: 'system.echo', payload: { data: nested(63) } });
      expect(deeper.status).toBe(400);
      expect(deeper.body.detail).toBe('The body is nested more than 64 levels deep.');
    });
  });

  describe('Idempotency-Key', () => {
    it('answers a repeated key with 200 and the original job, without a second row', async () => {
      const key = `repeat-${Date.now()}`;
      const first = await post(echo('once'), { 'Idempotency-Key': key });
      const second = await post(echo('once'), { 'Idempotency-Key': key });

      expect(first.status).toBe(202);
      expect(second.status).toBe(200);
      expect(second.body.id).toBe(first.body.id);
      expect(second.headers.location).toBe(`/v1/jobs/${first.body.id}`);
      expect(await rowsWithKey(key)).toBe(1);
    });

    it('answers 422 when the key was used for a request with another concurrencyKey', async () => {
      const key = `idem-${Date.now()}-concurrency`;
      await post({ ...echo(), concurrencyKey: 'a' }, { 'Idempotency-Key': key }).expect(202);
      await post({ ...echo(), concurrencyKey: 'b' }, { 'Idempotency-Key': key }).expect(422);
      await post({ ...echo(), concurrencyKey: 'a' }, { 'Idempotency-Key': key }).expect(200);
    });

    it('answers 422 when the key was used for a different request', async () => {
      const key = `different-${Date.now()}`;
      const first = await post(echo('a'), { 'Idempotency-Key': key });
      const other = await post(echo('b'), { 'Idempotency-Key': key });

      expect(other.status).toBe(422);
      expect(other.body).toMatchObject({
        type: `${PROBLEM_TYPE_BASE}idempotency-key-reused`,
        jobId: first.body.id,
      });
      expect(await rowsWithKey(key)).toBe(1);
    });

    it('creates exactly one job for 20 concurrent identical requests', async () => {
      const key = `concurrent-${Date.now()}`;
      const responses = await Promise.all(
        Array.from({ length: 20 }, () => post(echo('race'), { 'Idempotency-Key': key })),
      );

      const statuses = responses.map((r) => r.status);
      expect(statuses.filter((s) => s === 202)).toHaveLength(1);
      expect(statuses.filter((s) => s === 200)).toHaveLength(19);
      expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);
      expect(await rowsWithKey(key)).toBe(1);
      const queued = await api.queue.getJobs(['prioritized']);
      expect(queued.filter((job) => job.id === responses[0]?.body.id)).toHaveLength(1);
    });

    it('treats a retry whose payload differs only as JSON does not (-0, key order) as the same request', async () => {
      const key = `canonical-${Date.now()}`;
      const send = (body: string) =>
        request(api.url)
          .post('/v1/jobs')
          .set(auth)
          .set('Idempotency-Key', key)
          .set('Content-Type', 'application/json')
          .send(body);
      // jsonb stores -0 as 0 and reorders keys: the retry must still match the stored job
      const first = await send('{"type":"system.echo","payload":{"data":{"n":-0,"a":1,"b":[-0]}}}');
      const retried = await send(
        '{"type":"system.echo","payload":{"data":{"b":[-0],"a":1,"n":-0}}}',
      );
      expect(first.status).toBe(202);
      expect(retried.status, JSON.stringify(retried.body)).toBe(200);
      expect(retried.body.id).toBe(first.body.id);

      const different = await send(
        '{"type":"system.echo","payload":{"data":{"n":1,"a":1,"b":[0]}}}',
      );
      expect(different.status).toBe(422);
      expect(await rowsWithKey(key)).toBe(1);
    });

    it('rejects a malformed key', async () => {
      const res = await post(echo(), { 'Idempotency-Key': 'has spaces in it' });
      expect(res.status).toBe(400);
      expect(res.body.errors[0].path).toEqual(['headers', 'idempotency-key']);
    });
  });

  describe('GET /v1/jobs/:id', () => {
    it('answers 200 with the job, 404 for an unknown id and 400 for a malformed one', async () => {
      const created = await post(echo());
      const found = await request(api.url).get(`/v1/jobs/${created.body.id}`).set(auth);
      expect(found.status).toBe(200);
      expect(found.body).toEqual(created.body);

      const missing = await request(api.url)
        .get('/v1/jobs/00000000-0000-4000-8000-000000000000')
        .set(auth);
      expect(missing.status).toBe(404);
      expect(missing.body.type).toBe(`${PROBLEM_TYPE_BASE}job-not-found`);

      const malformed = await request(api.url).get('/v1/jobs/not-a-uuid').set(auth);
      expect(malformed.status).toBe(400);
      expect(malformed.body.errors[0].path).toEqual(['params', 'id']);
    });

    it('holds the request with Prefer: wait until the job finishes', async () => {
      const created = await post(echo());
      const started = performance.now();
      const waiting = request(api.url)
        .get(`/v1/jobs/${created.body.id}`)
        .set(auth)
        .set('Prefer', 'wait=10')
        .then((res) => res);
      await new Promise((resolve) => setTimeout(resolve, 400));
      await request(api.url).post(`/v1/jobs/${created.body.id}/cancel`).set(auth).expect(200);

      const res = await waiting;
      const elapsed = performance.now() - started;
      expect(res.status).toBe(200);
      expect(res.headers['preference-applied']).toBe('wait=10');
      expect(res.body.status).toBe('cancelled');
      expect(elapsed).toBeGreaterThan(400);
      expect(elapsed).toBeLessThan(5_000);
    });
  });

  describe('GET /v1/jobs', () => {
    it('pages through jobs newest first without skipping or repeating, also while jobs arrive', async () => {
      const database = await startApiUnderTest('api-jobs-pages');
      try {
        const get = (path: string) => request(database.url).get(path).set(auth);
        const ids: string[] = [];
        for (let i = 0; i < 5; i += 1) {
          const res = await request(database.url).post('/v1/jobs').set(auth).send(echo(i));
          ids.push(res.body.id);
        }

        const first = await get('/v1/jobs?limit=2');
        expect(first.status).toBe(200);
        expect(first.body.jobs.map((j: { id: string }) => j.id)).toEqual([ids[4], ids[3]]);
        expect(first.body.links.self).toBe('/v1/jobs?limit=2');
        expect(first.body.links.next).toBe(
          `/v1/jobs?limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`,
        );

        // a job created between pages appears on no later page and shifts nothing
        await request(database.url).post('/v1/jobs').set(auth).send(echo('late'));

        const second = await get(first.body.links.next);
        expect(second.body.jobs.map((j: { id: string }) => j.id)).toEqual([ids[2], ids[1]]);
        const third = await get(second.body.links.next);
        expect(third.body.jobs.map((j: { id: string }) => j.id)).toEqual([ids[0]]);
        expect(third.body.nextCursor).toBeNull();
        expect(third.body.links.next).toBeNull();

        const exact = await get('/v1/jobs?limit=6');
        expect(exact.body.jobs).toHaveLength(6);
        expect(exact.body.nextCursor).toBeNull();

        const defaults = await get('/v1/jobs');
        expect(defaults.body.jobs).toHaveLength(6);
        expect(defaults.body.links.self).toBe('/v1/jobs?limit=20');
      } finally {
        await database.close();
      }
    });

    it('filters by status and type', async () => {
      const created = await post(echo('to cancel'));
      await request(api.url).post(`/v1/jobs/${created.body.id}/cancel`).set(auth).expect(200);

      const cancelled = await request(api.url)
        .get('/v1/jobs?status=cancelled&type=system.echo&limit=100')
        .set(auth);
      expect(cancelled.status).toBe(200);
      expect(cancelled.body.jobs.length).toBeGreaterThan(0);
      expect(cancelled.body.jobs.map((j: { id: string }) => j.id)).toContain(created.body.id);
      for (const job of cancelled.body.jobs) {
        expect(job).toMatchObject({ status: 'cancelled', type: 'system.echo' });
      }
      const webhooks = await request(api.url).get('/v1/jobs?type=webhook.deliver').set(auth);
      expect(webhooks.body.jobs).toEqual([]);
    });

    it('filters by concurrencyKey', async () => {
      const key = `tenant-${Date.now()}`;
      const mine = await post({ ...echo('mine'), concurrencyKey: key }).expect(202);
      await post({ ...echo('other'), concurrencyKey: `${key}-other` }).expect(202);
      await post(echo('none')).expect(202);
      const listed = await request(api.url).get(`/v1/jobs?concurrencyKey=${key}`).set(auth);
      expect(listed.status).toBe(200);
      expect(listed.body.jobs.map((j: { id: string }) => j.id)).toEqual([mine.body.id]);
      expect(listed.body.links.self).toBe(`/v1/jobs?concurrencyKey=${key}&limit=20`);
      await request(api.url).get('/v1/jobs?concurrencyKey=a%20b').set(auth).expect(400);
    });

    it('answers 400 with the zod issues for invalid parameters and cursors', async () => {
      const cases: [string, unknown[]][] = [
        ['limit=0', ['query', 'limit']],
        ['limit=101', ['query', 'limit']],
        ['limit=ten', ['query', 'limit']],
        ['status=done', ['query', 'status']],
        ['type=no.such.type', ['query', 'type']],
        ['status=queued&status=failed', ['query', 'status']],
        ['sort=asc', ['query']],
      ];
      for (const [query, path] of cases) {
        const res = await request(api.url).get(`/v1/jobs?${query}`).set(auth);
        expect(res.status, query).toBe(400);
        expect(res.body.type).toBe(`${PROBLEM_TYPE_BASE}validation-failed`);
        expect(res.body.errors[0].path, query).toEqual(path);
      }

      const cursor = await request(api.url).get('/v1/jobs?cursor=bm90LWEtY3Vyc29y').set(auth);
      expect(cursor.status).toBe(400);
      expect(cursor.body.type).toBe(`${PROBLEM_TYPE_BASE}invalid-cursor`);
    });
  });

  describe('POST /v1/jobs/:id/cancel', () => {
    it('cancels a waiting job and removes it from the queue; a second cancel is a 409', async () => {
      const created = await post(echo());
      const res = await request(api.url).post(`/v1/jobs/${created.body.id}/cancel`).set(auth);

      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: created.body.id, status: 'cancelled' });
      expect(await api.queue.getJob(created.body.id)).toBeUndefined();
      expect((await api.jobs.findById(created.body.id))?.status).toBe('cancelled');

      const again = await request(api.url).post(`/v1/jobs/${created.body.id}/cancel`).set(auth);
      expect(again.status).toBe(409);
      expect(again.body).toMatchObject({
        type: `${PROBLEM_TYPE_BASE}job-not-cancellable`,
        jobStatus: 'cancelled',
      });
    });

    it('cancels a delayed job', async () => {
      const runAt = new Date(Date.now() + 600_000).toISOString();
      const created = await post({ ...echo(), runAt });
      const res = await request(api.url).post(`/v1/jobs/${created.body.id}/cancel`).set(auth);
      expect(res.status).toBe(200);
      expect(await api.queue.getJob(created.body.id)).toBeUndefined();
    });

    it('answers 202 cancel_requested for a queued job a worker holds, whose handler may be running', async () => {
      const created = await post(echo());
      // what BullMQ leaves on a job a worker has taken (workers write running only after a delay)
      const lock = `${api.queue.toKey(created.body.id)}:lock`;
      await api.redis.set(lock, 'a-worker-token');
      const held = await request(api.url).post(`/v1/jobs/${created.body.id}/cancel`).set(auth);
      expect(held.status).toBe(202);
      expect(held.body).toMatchObject({
        id: created.body.id,
        status: 'queued',
        cancelRequestedAt: expect.stringMatching(/Z$/),
      });
      expect(await api.queue.getJob(created.body.id)).toBeDefined();
      expect((await api.jobs.findById(created.body.id))?.status).toBe('queued');
      // let go of without running it (no worker holds it any more): cancelled now
      await api.redis.del(lock);
      const released = await request(api.url).post(`/v1/jobs/${created.body.id}/cancel`).set(auth);
      expect(released.status).toBe(200);
      expect(released.body).toMatchObject({
        status: 'cancelled',
        cancelRequestedAt: held.body.cancelRequestedAt,
      });
      expect(await api.queue.getJob(created.body.id)).toBeUndefined();
    });

    it('answers 202 with cancelRequestedAt for a running job, 404 for a missing one and 400 for a malformed id', async () => {
      const created = await post(echo());
      await api.jobs.markRunning(created.body.id, 1);
      const running = await request(api.url).post(`/v1/jobs/${created.body.id}/cancel`).set(auth);
      expect(running.status).toBe(202);
      expect(running.headers.location).toBe(`/v1/jobs/${created.body.id}`);
      expect(running.body).toMatchObject({
        id: created.body.id,
        status: 'running',
        cancelRequestedAt: expect.stringMatching(/Z$/),
      });
      // asking again changes nothing: the first request's time stays
      const again = await request(api.url).post(`/v1/jobs/${created.body.id}/cancel`).set(auth);
      expect(again.status).toBe(202);
      expect(again.body.cancelRequestedAt).toBe(running.body.cancelRequestedAt);

      const missing = await request(api.url)
        .post('/v1/jobs/00000000-0000-4000-8000-000000000000/cancel')
        .set(auth);
      expect(missing.status).toBe(404);

      const malformed = await request(api.url).post('/v1/jobs/1%20OR%201=1/cancel').set(auth);
      expect(malformed.status).toBe(400);
    });
  });

  async function rowsWithKey(key: string): Promise<number> {
    const page = await api.jobs.list({ limit: 100 });
    return page.jobs.filter((job) => job.idempotencyKey === key).length;
  }
});

describe('park on arrival (real PostgreSQL and Redis, no worker)', () => {
  let api: ApiUnderTest;
  beforeAll(async () => {
    api = await startApiUnderTest('api-jobs-arrival', {
      env: { JOB_LIMITS: JSON.stringify({ 'system.echo': { maxConcurrentPerKey: 1 } }) },
    });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('adds the jobs of a key past its limit already parked, and the key’s later jobs behind them', async () => {
    const item = (n: number) => ({ ...echo({ n }), concurrencyKey: 'tenant-7' });
    const batch = await request(api.url)
      .post('/v1/jobs/batch')
      .set(auth)
      .send({ jobs: [item(1), item(2), item(3)] })
      .expect(200);
    const ids = batch.body.results.map((result: { job: { id: string } }) => result.job.id);
    const later = await request(api.url).post('/v1/jobs').set(auth).send(item(4)).expect(202);
    ids.push(later.body.id);
    // without the worker seeing any of them: one job of the key goes to wait, the rest wait for it
    const states = await Promise.all(
      ids.map(async (id: string) => (await api.queue.getJob(id))?.getState()),
    );
    expect(states).toEqual(['prioritized', 'delayed', 'delayed', 'delayed']);
    const waitingFor = await Promise.all(
      ids.map(
        async (id: string) =>
          (await request(api.url).get(`/v1/jobs/${id}`).set(auth).expect(200)).body.waitingFor,
      ),
    );
    expect(waitingFor).toEqual([null, 'concurrency', 'concurrency', 'concurrency']);
    // another key has its own limit
    const other = await request(api.url)
      .post('/v1/jobs')
      .set(auth)
      .send({ ...echo(), concurrencyKey: 'tenant-8' })
      .expect(202);
    expect(await (await api.queue.getJob(other.body.id))?.getState()).toBe('prioritized');
    // the three jobs added parked are counted where they were parked, by the api
    const metrics = await request(api.url)
      .get('/metrics')
      .set('Authorization', `Bearer ${TEST_METRICS_TOKEN}`)
      .expect(200);
    expect(metrics.text).toContain(
      'jobstack_jobs_parked_total{type="system.echo",where="arrival"} 3',
    );
    expect(metrics.text).toContain(
      'jobstack_jobs_parked_total{type="system.echo",where="admission"} 0',
    );
  });
});

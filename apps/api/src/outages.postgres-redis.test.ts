import { enqueueJob, resolveJobType } from '@repo/jobs';
import { freePort, READY_DEADLINE_MS, type TestDatabase } from '@repo/testing';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PROBLEM_TYPE_BASE } from './problems.ts';
import { type ApiUnderTest, auth, startApiUnderTest } from './testing/api-under-test.ts';

describe('Redis unreachable (real PostgreSQL, Redis on a closed port)', () => {
  let broken: ApiUnderTest;
  let healthy: ApiUnderTest;

  beforeAll(async () => {
    // two APIs on one database: one whose Redis is a port nobody listens on, and a healthy one
    // whose queue plays the part of Redis coming back
    healthy = await startApiUnderTest('api-outage-redis');
    const database: TestDatabase = {
      url: healthy.config.DATABASE_URL.reveal(),
      name: 'shared',
      drop: async () => {}, // the healthy API owns and drops it
    };
    broken = await startApiUnderTest('api-outage-redis-broken', {
      database,
      env: {
        REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
        HEALTH_CHECK_TIMEOUT: '500ms',
        QUEUE_PREFIX: healthy.prefix,
      },
    });
  });
  afterAll(async () => {
    await broken?.close();
    await healthy?.close();
  });

  it('answers POST /v1/jobs with 503, the job id and Retry-After, and leaves the row queued', async () => {
    const started = performance.now();
    const res = await request(broken.url)
      .post('/v1/jobs')
      .set(auth)
      .send({ type: 'system.echo', payload: { data: 'during outage' } });

    expect(performance.now() - started).toBeLessThan(3_000);
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.body).toMatchObject({
      type: `${PROBLEM_TYPE_BASE}queue-unavailable`,
      status: 503,
      jobId: expect.any(String),
      detail: expect.stringContaining('do not post it again'),
    });
    const row = await healthy.jobs.findById(res.body.jobId);
    expect(row?.status).toBe('queued');
    expect(await healthy.queue.getJob(res.body.jobId)).toBeUndefined();
  });

  it('leaves a row that the reconciler enqueues once Redis is back', async () => {
    const res = await request(broken.url)
      .post('/v1/jobs')
      .set(auth)
      .send({ type: 'system.echo', payload: { data: 'reconcile me' }, maxAttempts: 4 });
    expect(res.status).toBe(503);
    const id: string = res.body.jobId;

    // the core of the worker's maintenance.reconcile: rows queued for a while with no BullMQ job
    const stale = await healthy.jobs.findStale({ before: new Date(), limit: 100 });
    expect(stale.map((row) => row.id)).toContain(id);
    for (const job of stale) {
      if (await healthy.queue.getJob(job.queueJobId)) continue;
      const row = await healthy.jobs.findById(job.id);
      if (!row) throw new Error(`job ${job.id} has no row`);
      await enqueueJob(healthy.queue, {
        id: row.id,
        type: resolveJobType(row.type),
        payload: row.payload as never,
        runAt: row.runAt,
        maxAttempts: row.maxAttempts,
      });
    }

    const queued = await healthy.queue.getJob(id);
    expect(queued?.data).toEqual({ data: 'reconcile me' });
    expect(queued?.opts.attempts).toBe(4);
    expect(await queued?.getState()).toBe('prioritized');
  });

  it('completes the enqueue when the client retries with the same Idempotency-Key', async () => {
    const body = { type: 'system.echo', payload: { data: 'retry me' } };
    const key = `outage-${Date.now()}`;
    const failed = await request(broken.url)
      .post('/v1/jobs')
      .set(auth)
      .set('Idempotency-Key', key)
      .send(body);
    expect(failed.status).toBe(503);
    expect(failed.body.detail).toContain('retrying with the same Idempotency-Key queues it sooner');

    const retried = await request(healthy.url)
      .post('/v1/jobs')
      .set(auth)
      .set('Idempotency-Key', key)
      .send(body);
    expect(retried.status).toBe(200);
    expect(retried.body.id).toBe(failed.body.jobId);
    expect(await healthy.queue.getJob(failed.body.jobId)).toBeDefined();
  });

  it('answers 503 where a job must be queued, keeps serving reads from PostgreSQL and reports not ready', async () => {
    // a schedule is recorded in PostgreSQL; beat learns of it at its next resync
    const schedule = await request(broken.url)
      .post('/v1/schedules')
      .set(auth)
      .send({ key: 'outage.echo', type: 'system.echo', payload: {}, everySeconds: 3_600 });
    expect(schedule.status).toBe(201);
    expect(broken.logs()).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        key: 'outage.echo',
        msg: 'schedule change not announced; beat applies it at its next resync',
      }),
    );
    await request(broken.url).get('/v1/schedules/outage.echo').set(auth).expect(200);

    // running it now needs Redis: the row is recorded, and the answer says so
    const triggered = await request(broken.url).post('/v1/schedules/outage.echo/trigger').set(auth);
    expect(triggered.status).toBe(503);
    expect(triggered.body.type).toBe(`${PROBLEM_TYPE_BASE}queue-unavailable`);
    expect(await healthy.jobs.findById(triggered.body.jobId)).toMatchObject({
      status: 'queued',
      schedulerId: 'outage.echo',
    });

    await request(broken.url).get('/v1/jobs').set(auth).expect(200);
    // no limit applies to the queued job (system.echo, no JOB_LIMITS), so it cannot be waiting
    // for one: the row answers, without Redis
    const queued = await request(broken.url).get(`/v1/jobs/${triggered.body.jobId}`).set(auth);
    expect(queued.status).toBe(200);
    expect(queued.body).toMatchObject({ status: 'queued', waitingFor: null });

    const ready = await request(broken.url).get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.checks.redis.status).toBe('down');
    expect(ready.body.checks.database.status).toBe('ok');
    await request(broken.url).get('/health/live').expect(200);
  });

  it('still records a cancellation: requested on the row, as whether a worker holds the job cannot be known', async () => {
    const created = await request(broken.url)
      .post('/v1/jobs')
      .set(auth)
      .send({ type: 'system.echo', payload: {} });
    const res = await request(broken.url).post(`/v1/jobs/${created.body.jobId}/cancel`).set(auth);
    // never "cancelled" for a job a worker may be running; whichever worker gets it ends it cancelled
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'queued', cancelRequestedAt: expect.any(String) });
  });

  it('serves /metrics without the queue depth and counts the failure', async () => {
    const res = await request(broken.url)
      .get('/metrics')
      .set('Authorization', `Bearer ${broken.config.METRICS_TOKEN?.reveal()}`);
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/jobstack_metrics_collection_failures_total\{source="queue"\} [1-9]/);
    expect(res.text).not.toMatch(/jobstack_queue_jobs\{/);
  });

  it('never answered with a 500', () => {
    const statuses = broken
      .logs()
      .map((line) => (line.res as { statusCode?: number } | undefined)?.statusCode);
    expect(
      statuses.filter((status) => status !== undefined && status >= 500 && status !== 503),
    ).toEqual([]);
  });
});

describe('PostgreSQL unreachable (closed port, real Redis)', () => {
  let api: ApiUnderTest;

  beforeAll(async () => {
    const port = await freePort();
    api = await startApiUnderTest('api-outage-postgres', {
      database: {
        url: `postgresql://postgres@127.0.0.1:${port}/nowhere`,
        name: 'nowhere',
        drop: async () => {},
      },
      env: { DATABASE_CONNECT_TIMEOUT: '500ms', HEALTH_CHECK_TIMEOUT: '1s' },
    });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('answers every endpoint that needs PostgreSQL with 503 and Retry-After, never 500', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    const requests = {
      'POST /v1/jobs': request(api.url)
        .post('/v1/jobs')
        .set(auth)
        .send({ type: 'system.echo', payload: {} }),
      'GET /v1/jobs': request(api.url).get('/v1/jobs').set(auth),
      'GET /v1/jobs/:id': request(api.url).get(`/v1/jobs/${id}`).set(auth),
      'POST /v1/jobs/:id/cancel': request(api.url).post(`/v1/jobs/${id}/cancel`).set(auth),
    };
    for (const [name, pending] of Object.entries(requests)) {
      const res = await pending;
      expect(res.status, name).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.body).toMatchObject({ type: `${PROBLEM_TYPE_BASE}database-unavailable` });
      expect(res.text).not.toMatch(/postgres(ql)?:\/\//);
    }
  });

  it('reports the database down on readiness while liveness stays up', async () => {
    const ready = await request(api.url).get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.checks.database.status).toBe('down');
    expect(ready.body.checks.redis, JSON.stringify(ready.body)).toMatchObject({ status: 'ok' });
    await request(api.url).get('/health/live').expect(200);
  });
});

describe('REQUEST_TIMEOUT (real PostgreSQL, Redis on a closed port)', () => {
  let api: ApiUnderTest;

  beforeAll(async () => {
    // Redis calls may take 3 s here, but requests only 1 s: the request timeout answers first
    api = await startApiUnderTest('api-request-timeout', {
      env: {
        REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
        REQUEST_TIMEOUT: '1s',
        HEALTH_CHECK_TIMEOUT: '3s',
      },
    });
  });
  afterAll(async () => {
    await api?.close();
  });

  it('answers a request still running after REQUEST_TIMEOUT with 503 and closes the connection', async () => {
    // queueing a job waits for BullMQ's connection, which never becomes ready
    const started = performance.now();
    const res = await request(api.url)
      .post('/v1/jobs')
      .set(auth)
      .send({ type: 'system.echo', payload: {} });
    const elapsed = performance.now() - started;

    expect(res.status).toBe(503);
    expect(res.body.type).toBe(`${PROBLEM_TYPE_BASE}request-timeout`);
    expect(res.headers.connection).toBe('close');
    expect(elapsed).toBeGreaterThan(950);
    expect(elapsed).toBeLessThan(2_500);

    // the handler finishes later and finds the answer sent: logged, nothing else happens
    await vi.waitFor(
      () =>
        expect(api.logs()).toContainEqual(
          expect.objectContaining({ msg: 'error after the response had started' }),
        ),
      { timeout: READY_DEADLINE_MS, interval: 50 },
    );
    await request(api.url).get('/health/live').expect(200);
  });
});

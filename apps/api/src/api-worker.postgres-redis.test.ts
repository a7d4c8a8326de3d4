import { hostname } from 'node:os';
import {
  freePort,
  READY_DEADLINE_MS,
  type ServiceProcess,
  startServiceProcess,
  TEST_REDIS_URL,
} from '@repo/testing';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiUnderTest, auth, startApiUnderTest } from './testing/api-under-test.ts';

const workerEntry = new URL('../../worker/src/main.ts', import.meta.url).pathname;

describe('api → worker → PostgreSQL (real worker process, real PostgreSQL and Redis)', () => {
  let api: ApiUnderTest;
  let worker: ServiceProcess;

  // only jobs with a concurrencyKey are limited by it, and only one test posts such jobs; the api
  // and the worker share it, as in a deployment
  const JOB_LIMITS = JSON.stringify({ 'system.echo': { maxConcurrentPerKey: 1 } });

  beforeAll(async () => {
    api = await startApiUnderTest('api-e2e', { env: { JOB_LIMITS } });
    const healthPort = await freePort();
    worker = startServiceProcess(workerEntry, {
      DATABASE_URL: api.config.DATABASE_URL.reveal(),
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: api.prefix,
      WEBHOOK_SIGNING_SECRET: `whsec_${Buffer.from('e2e-webhook-signing-secret-0123456789abcdef').toString('base64')}`,
      HEALTH_HOST: '127.0.0.1',
      HEALTH_PORT: String(healthPort),
      RECONCILE_AFTER: '1s',
      JOB_LIMITS,
    });
    await worker.waitForHttp(`http://127.0.0.1:${healthPort}/health/ready`);
  });
  afterAll(async () => {
    await worker?.stop();
    await api?.close();
  });

  it('runs a job posted to the API and records it as succeeded with its result', async () => {
    const created = await request(api.url)
      .post('/v1/jobs')
      .set(auth)
      .send({ type: 'system.echo', payload: { data: { hello: 'worker' } } })
      .expect(202);

    const finished = await request(api.url)
      .get(`/v1/jobs/${created.body.id}`)
      .set(auth)
      .set('Prefer', 'wait=15');
    expect(finished.status).toBe(200);
    expect(finished.body).toMatchObject({
      id: created.body.id,
      status: 'succeeded',
      attempts: 1,
      result: { data: { hello: 'worker' } },
    });
    expect(Date.parse(finished.body.finishedAt)).toBeGreaterThanOrEqual(
      Date.parse(finished.body.startedAt),
    );
  });

  it('says a queued job waits for a concurrency slot, and runs it once the slot is free', async () => {
    const post = () =>
      request(api.url)
        .post('/v1/jobs')
        .set(auth)
        .send({ type: 'system.echo', payload: { delayMs: 1_500 }, concurrencyKey: 'tenant-1' })
        .expect(202);
    const first = await post();
    const second = await post();

    const deadline = Date.now() + READY_DEADLINE_MS;
    let waiting = await request(api.url).get(`/v1/jobs/${second.body.id}`).set(auth);
    while (waiting.body.waitingFor === null && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      waiting = await request(api.url).get(`/v1/jobs/${second.body.id}`).set(auth);
    }
    expect(waiting.body).toMatchObject({
      status: 'queued',
      attempts: 0,
      waitingFor: 'concurrency',
    });

    for (const job of [first, second]) {
      const finished = await request(api.url)
        .get(`/v1/jobs/${job.body.id}`)
        .set(auth)
        .set('Prefer', 'wait=15');
      expect(finished.body).toMatchObject({ status: 'succeeded', attempts: 1, waitingFor: null });
    }
  });

  it('retries a failing job until it succeeds, counting the attempts', async () => {
    const created = await request(api.url)
      .post('/v1/jobs')
      .set(auth)
      .send({ type: 'system.echo', payload: { failAttempts: 1 }, maxAttempts: 3 })
      .expect(202);

    const finished = await request(api.url)
      .get(`/v1/jobs/${created.body.id}`)
      .set(auth)
      .set('Prefer', 'wait=15');
    expect(finished.body).toMatchObject({ status: 'succeeded', attempts: 2 });
    // the row names the worker process that ran the last attempt, and times that attempt alone
    expect(finished.body.workerId).toBe(hostname());
    const firstStart = Date.parse(finished.body.startedAt);
    const lastStart = Date.parse(finished.body.attemptStartedAt);
    expect(lastStart).toBeGreaterThan(firstStart);
    expect(Date.parse(finished.body.finishedAt)).toBeGreaterThanOrEqual(lastStart);
  });

  it('runs a job whose enqueue failed once the scheduled reconcile finds it', async () => {
    // an API on the same database whose Redis is a closed port: its POST records the row, then
    // cannot enqueue it
    const cutOff = await startApiUnderTest('api-e2e-no-redis', {
      database: { url: api.config.DATABASE_URL.reveal(), name: 'shared', drop: async () => {} },
      env: { REDIS_URL: `redis://127.0.0.1:${await freePort()}`, HEALTH_CHECK_TIMEOUT: '500ms' },
    });
    let id: string;
    try {
      const res = await request(cutOff.url)
        .post('/v1/jobs')
        .set(auth)
        .send({ type: 'system.echo', payload: { data: 'recovered' } });
      expect(res.status).toBe(503);
      id = res.body.jobId;
    } finally {
      await cutOff.close();
    }
    expect(await api.queue.getJob(id)).toBeUndefined();

    // what beat registers in production, run every half second here
    await api.queue.upsertJobScheduler(
      'reconcile-e2e',
      { every: 500 },
      { name: 'maintenance.reconcile', data: {} },
    );
    try {
      const finished = await request(api.url)
        .get(`/v1/jobs/${id}`)
        .set(auth)
        .set('Prefer', 'wait=15');
      expect(finished.body).toMatchObject({
        id,
        status: 'succeeded',
        attempts: 1,
        result: { data: 'recovered' },
      });
    } finally {
      await api.queue.removeJobScheduler('reconcile-e2e');
    }
  });
});

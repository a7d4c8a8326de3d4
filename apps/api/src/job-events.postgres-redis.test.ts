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
import { type EventStreamClient, openEventStream } from './testing/event-stream-client.ts';

const workerEntry = new URL('../../worker/src/main.ts', import.meta.url).pathname;
const HEARTBEAT_MS = 300;

describe('GET /v1/jobs/:id/events (two api replicas, a worker process, real PostgreSQL and Redis)', () => {
  let api: ApiUnderTest;
  /**
   * A second replica on the same database and queue, where the clients stream from. Its
   * heartbeat (which also re-reads the rows) never comes during a test: what its streams show
   * came through Redis pub/sub.
   */
  let replica: ApiUnderTest;
  let worker: ServiceProcess;
  const streams: EventStreamClient[] = [];

  beforeAll(async () => {
    api = await startApiUnderTest('job-events', { eventHeartbeatMs: HEARTBEAT_MS });
    replica = await startApiUnderTest('job-events-replica', {
      database: api.database,
      env: { QUEUE_PREFIX: api.prefix },
      eventHeartbeatMs: 3_600_000,
    });
    const healthPort = await freePort();
    worker = startServiceProcess(workerEntry, {
      DATABASE_URL: api.config.DATABASE_URL.reveal(),
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: api.prefix,
      WEBHOOK_SIGNING_SECRET: `whsec_${Buffer.from('e2e-webhook-signing-secret-0123456789abcdef').toString('base64')}`,
      HEALTH_HOST: '127.0.0.1',
      HEALTH_PORT: String(healthPort),
    });
    await worker.waitForHttp(`http://127.0.0.1:${healthPort}/health/ready`);
  });
  afterAll(async () => {
    for (const stream of streams) stream.close();
    await worker?.stop();
    await replica?.close();
    await api?.close();
  });

  async function stream(id: string, headers: Record<string, string> = {}, on = replica) {
    const client = await openEventStream(`${on.url}/v1/jobs/${id}/events`, { ...auth, ...headers });
    streams.push(client);
    return client;
  }
  const post = async (body: object) =>
    (await request(api.url).post('/v1/jobs').set(auth).send(body).expect(202)).body as {
      id: string;
    };
  const data = (event: { data: string }) => JSON.parse(event.data);

  it('streams a job posted to one replica from another: its states, its progress, then ends', async () => {
    const job = await post({ type: 'system.echo', payload: { data: 'live', delayMs: 2_500 } });
    const client = await stream(job.id);
    expect(client.status).toBe(200);
    expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(client.headers['cache-control']).toBe('no-cache, no-transform');

    await client.ended;
    const statuses = client.events.filter((e) => e.event === 'status').map((e) => data(e));
    // the state at connect first (queued, or running if the worker was quicker), then each change
    expect(statuses.at(-1)).toMatchObject({
      id: job.id,
      status: 'succeeded',
      result: { data: 'live', delayMs: 2_500 },
      progress: { percent: 100 },
    });
    const order = statuses.map((s) => s.status);
    expect(order.slice(-2)).toEqual(['running', 'succeeded']);
    expect(new Set(order).size).toBe(order.length);
    // the status event carries what GET /v1/jobs/:id answers
    const current = await request(api.url).get(`/v1/jobs/${job.id}`).set(auth).expect(200);
    expect(statuses.at(-1)).toEqual(current.body);

    const progress = client.events.filter((e) => e.event === 'progress').map((e) => data(e));
    expect(progress.length).toBeGreaterThan(0);
    for (const event of progress) {
      expect(event).toEqual({
        id: job.id,
        progress: {
          percent: expect.any(Number),
          message: expect.any(String),
          updatedAt: expect.any(String),
        },
      });
    }
    // ids only grow
    const ids = client.events.map((e) => Number(e.id));
    expect(ids.every((id, i) => Number.isInteger(id) && (i === 0 || id >= (ids[i - 1] ?? 0)))).toBe(
      true,
    );
  });

  it('sends a heartbeat comment while nothing happens, and shows a change nobody announced', async () => {
    const job = await post({
      type: 'system.echo',
      payload: {},
      runAt: new Date(Date.now() + 600_000).toISOString(),
    });
    const client = await stream(job.id, {}, api);
    expect(await client.waitForComment()).toBe('heartbeat');
    expect(client.events.map((e) => [e.event, data(e).status])).toEqual([['status', 'queued']]);
    // a change whose announcement was lost (written here without one) shows on a heartbeat
    await api.jobs.markRunning(job.id, 1);
    await client.waitForEvent((e) => data(e).status === 'running');
    client.close();
  });

  it('ends with the cancelled status when the job is cancelled, on a running and on a queued job', async () => {
    const running = await post({ type: 'system.echo', payload: { delayMs: 60_000 } });
    const runningStream = await stream(running.id);
    await runningStream.waitForEvent((e) => e.event === 'status' && data(e).status === 'running');
    await request(api.url).post(`/v1/jobs/${running.id}/cancel`).set(auth).expect(202);
    await runningStream.ended;
    expect(data(runningStream.events.at(-1) ?? { data: '{}' })).toMatchObject({
      status: 'cancelled',
      cancelRequestedAt: expect.any(String),
    });

    const later = await post({
      type: 'system.echo',
      payload: {},
      runAt: new Date(Date.now() + 600_000).toISOString(),
    });
    const queuedStream = await stream(later.id);
    await queuedStream.waitForEvent((e) => e.event === 'status');
    await request(api.url).post(`/v1/jobs/${later.id}/cancel`).set(auth).expect(200);
    await queuedStream.ended;
    expect(queuedStream.events.map((e) => data(e).status)).toEqual(['queued', 'cancelled']);
  });

  it('sends the current state first on a reconnect, and no progress the client has seen', async () => {
    const job = await post({ type: 'system.echo', payload: { delayMs: 8_000 } });
    const first = await stream(job.id);
    const seen = await first.waitForEvent((e) => e.event === 'progress');
    first.close();

    const again = await stream(job.id, { 'Last-Event-ID': seen.id ?? '' });
    const firstEvent = await again.waitForEvent(() => true);
    expect(firstEvent.event).toBe('status');
    expect(data(firstEvent)).toMatchObject({ id: job.id, status: 'running' });
    const next = await again.waitForEvent((e) => e.event === 'progress');
    expect(Number(next.id)).toBeGreaterThan(Number(seen.id));
    expect(data(next).progress.percent).toBeGreaterThan(data(seen).progress.percent);
    again.close();
    await request(api.url).post(`/v1/jobs/${job.id}/cancel`).set(auth).expect(202);
  });

  it('sends a finished job its state and ends at once', async () => {
    const job = await post({ type: 'system.echo', payload: { data: 'done' } });
    await request(api.url).get(`/v1/jobs/${job.id}`).set(auth).set('Prefer', 'wait=15');
    const client = await stream(job.id);
    await client.ended;
    expect(client.events.map((e) => [e.event, data(e).status])).toEqual([['status', 'succeeded']]);
  });

  it('answers like the other /v1 routes: 401 without a key, 404 for a missing job, 400 for a malformed id', async () => {
    const unauthenticated = await openEventStream(
      `${replica.url}/v1/jobs/00000000-0000-4000-8000-000000000000/events`,
      {},
    );
    await unauthenticated.ended;
    expect(unauthenticated.status).toBe(401);
    const missing = await stream('00000000-0000-4000-8000-000000000000');
    await missing.ended;
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(missing.body())).toMatchObject({ status: 404 });
    const malformed = await stream('not-a-uuid');
    await malformed.ended;
    expect(malformed.status).toBe(400);
    // a stream that is refused is not counted as open
    const metrics = await request(replica.url)
      .get('/metrics')
      .set('Authorization', `Bearer ${replica.config.METRICS_TOKEN?.reveal()}`);
    expect(metrics.text).toMatch(/^jobstack_job_event_streams \d+$/m);
  });

  it('outlives REQUEST_TIMEOUT: the request timeout does not cut a stream', async () => {
    const strict = await startApiUnderTest('job-events-timeout', {
      database: api.database,
      env: { QUEUE_PREFIX: api.prefix, REQUEST_TIMEOUT: '1s' },
      eventHeartbeatMs: HEARTBEAT_MS,
    });
    try {
      const job = await post({
        type: 'system.echo',
        payload: {},
        runAt: new Date(Date.now() + 600_000).toISOString(),
      });
      const client = await stream(job.id, {}, strict);
      // ten heartbeats of 300 ms: three times the request timeout
      const deadline = Date.now() + READY_DEADLINE_MS;
      while (client.comments.length < 10 && Date.now() < deadline) {
        await client.waitForComment();
        await new Promise((resolve) => setTimeout(resolve, HEARTBEAT_MS));
      }
      expect(client.comments.length).toBeGreaterThanOrEqual(10);
      expect(strict.jobEvents.size).toBe(1);
      await request(api.url).post(`/v1/jobs/${job.id}/cancel`).set(auth).expect(200);
      await client.ended;
      expect(client.events.map((e) => data(e).status)).toEqual(['queued', 'cancelled']);
    } finally {
      await strict.close();
    }
  });

  it(
    'counts the open streams, and ends them when the api stops',
    async () => {
      const other = await startApiUnderTest('job-events-stopping', {
        database: api.database,
        env: { QUEUE_PREFIX: api.prefix },
      });
      const job = await post({
        type: 'system.echo',
        payload: {},
        runAt: new Date(Date.now() + 600_000).toISOString(),
      });
      const clients = [await stream(job.id, {}, other), await stream(job.id, {}, other)];
      await Promise.all(clients.map((c) => c.waitForEvent((e) => e.event === 'status')));
      expect(other.jobEvents.size).toBe(2);
      const metrics = await request(other.url)
        .get('/metrics')
        .set('Authorization', `Bearer ${other.config.METRICS_TOKEN?.reveal()}`);
      expect(metrics.text).toMatch(/^jobstack_job_event_streams 2$/m);
      const stopped = other.close();
      await Promise.all(clients.map((c) => c.ended));
      await stopped;
      expect(other.jobEvents.size).toBe(0);
    },
    READY_DEADLINE_MS,
  );
});

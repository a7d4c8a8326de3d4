import { connect, createServer, type Server, type Socket } from 'node:net';
import {
  createOwnRedis,
  createTestDatabase,
  freePort,
  type OwnRedis,
  type ServiceProcess,
  startServiceProcess,
  type TestDatabase,
} from '@repo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CreateJobInput, createJobstackClient, type JobstackClient } from './client.ts';
import { JobstackApiError, JobstackConnectionError, WaitForJobTimeoutError } from './errors.ts';

const apiEntry = new URL('../../../apps/api/src/main.ts', import.meta.url).pathname;
const workerEntry = new URL('../../../apps/worker/src/main.ts', import.meta.url).pathname;
const API_KEY = 'client-test-api-key-0123456789abcdef';
/** Seals the webhook endpoints' signing secrets (base64 of 32 bytes). */
const WEBHOOK_SECRETS_KEY = Buffer.alloc(32, 0x5c).toString('base64');

/** A TCP proxy to `port` that cuts the first `drop` connections at once: a network error. */
async function flakyProxy(
  port: number,
  drop: number,
): Promise<{ url: string; server: Server; dropped(): number }> {
  let dropped = 0;
  const server = createServer((socket: Socket) => {
    if (dropped < drop) {
      dropped++;
      socket.destroy();
      return;
    }
    const upstream = connect(port, '127.0.0.1');
    socket.pipe(upstream).pipe(socket);
    const close = () => {
      socket.destroy();
      upstream.destroy();
    };
    socket.on('error', close);
    upstream.on('error', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('the proxy has no port');
  return { url: `http://127.0.0.1:${address.port}`, server, dropped: () => dropped };
}

/**
 * A TCP proxy to `port` that relays the requests of its first `lose` connections but cuts each
 * as its answer starts: the api did the work, and the client hears a network error.
 */
async function answerLosingProxy(
  port: number,
  lose: number,
): Promise<{ url: string; server: Server }> {
  let connections = 0;
  const server = createServer((socket: Socket) => {
    connections++;
    const losing = connections <= lose;
    const upstream = connect(port, '127.0.0.1');
    const close = () => {
      socket.destroy();
      upstream.destroy();
    };
    socket.pipe(upstream);
    if (losing) upstream.once('data', close);
    else upstream.pipe(socket);
    socket.on('error', close);
    upstream.on('error', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('the proxy has no port');
  return { url: `http://127.0.0.1:${address.port}`, server };
}

describe('the client against a real api and worker (real PostgreSQL and Redis)', () => {
  let database: TestDatabase;
  // a Redis of this file's own: one test stops it to make the api answer 503
  let redis: OwnRedis;
  let api: ServiceProcess;
  let worker: ServiceProcess;
  let apiPort: number;
  let baseUrl: string;
  let client: JobstackClient;

  beforeAll(async () => {
    database = await createTestDatabase('client');
    redis = await createOwnRedis();
    apiPort = await freePort();
    baseUrl = `http://127.0.0.1:${apiPort}`;
    api = startServiceProcess(apiEntry, {
      DATABASE_URL: database.url,
      MIGRATE_ON_START: 'true',
      REDIS_URL: redis.url,
      API_KEYS: API_KEY,
      WEBHOOK_SECRETS_KEY,
      HOST: '127.0.0.1',
      PORT: String(apiPort),
    });
    await api.waitForHttp(`${baseUrl}/health/ready`);
    const healthPort = await freePort();
    worker = startServiceProcess(workerEntry, {
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      WEBHOOK_SIGNING_SECRET: `whsec_${Buffer.from('client-test-webhook-secret-0123456789abcdef').toString('base64')}`,
      WEBHOOK_SECRETS_KEY,
      HEALTH_HOST: '127.0.0.1',
      HEALTH_PORT: String(healthPort),
    });
    await worker.waitForHttp(`http://127.0.0.1:${healthPort}/health/ready`);
    client = createJobstackClient({ baseUrl, apiKey: API_KEY });
  });
  afterAll(async () => {
    await worker?.stop();
    await api?.stop();
    await redis?.destroy();
    await database?.drop();
  });

  const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();

  it('creates a job and waits until the worker has run it', async () => {
    const job = await client.createJob({ type: 'system.echo', payload: { data: 'hello' } });
    expect(job).toMatchObject({ type: 'system.echo', status: 'queued' });
    // a key was generated for the create, so the client's retries could not create a second job
    expect(job.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);

    const finished = await client.waitForJob(job.id, { timeoutMs: 60_000 });
    expect(finished).toMatchObject({ id: job.id, status: 'succeeded', result: { data: 'hello' } });

    expect(await client.listJobAttempts(job.id)).toEqual([
      expect.objectContaining({ attempt: 1, outcome: 'succeeded', error: null }),
    ]);
  });

  it('creates jobs in a batch, each item answered on its own', async () => {
    const { results } = await client.createJobsBatch({
      jobs: [
        { type: 'system.echo', payload: { data: 'batched' }, runAt: inAnHour() },
        { type: 'system.echo', payload: { delayMs: -1 } },
      ],
    });
    expect(results).toEqual([
      expect.objectContaining({ status: 202, job: expect.objectContaining({ status: 'queued' }) }),
      expect.objectContaining({
        status: 400,
        error: expect.objectContaining({ type: 'https://jobstack.dev/problems/validation-failed' }),
      }),
    ]);
  });

  it("streams a job's events until it has finished", async () => {
    const job = await client.createJob({
      type: 'system.echo',
      payload: { data: 'streamed', delayMs: 1_500 },
    });
    const events = [];
    for await (const event of client.streamJobEvents(job.id)) events.push(event);

    const statuses = events.flatMap((event) => (event.type === 'status' ? [event.job.status] : []));
    // first the job as it was when the stream opened, last its finished state, which ends the stream
    expect(['queued', 'running']).toContain(statuses[0]);
    expect(statuses.at(-1)).toBe('succeeded');
    const last = events.at(-1);
    expect(last?.type === 'status' && last.job.result).toEqual({
      data: 'streamed',
      delayMs: 1_500,
    });
    expect(events.every((event) => event.eventId !== undefined)).toBe(true);

    await expect(
      client.streamJobEvents('00000000-0000-4000-8000-000000000000').next(),
    ).rejects.toMatchObject({ status: 404, slug: 'job-not-found' });
  });

  it('manages a schedule: create, read, change, run once now, delete', async () => {
    const created = await client.createSchedule({
      key: 'client-nightly',
      type: 'system.echo',
      payload: { data: 'scheduled' },
      cron: '0 3 * * *',
      timezone: 'Europe/Berlin',
      paused: true,
    });
    expect(created).toMatchObject({ key: 'client-nightly', source: 'api', paused: true });
    expect((await client.getSchedule('client-nightly')).key).toBe('client-nightly');
    expect(
      (await client.updateSchedule('client-nightly', { description: 'nightly' })).description,
    ).toBe('nightly');

    const job = await client.triggerSchedule('client-nightly');
    expect(job).toMatchObject({ schedulerId: 'client-nightly', payload: { data: 'scheduled' } });

    await client.deleteSchedule('client-nightly');
    await expect(client.getSchedule('client-nightly')).rejects.toMatchObject({
      status: 404,
      slug: 'schedule-not-found',
    });
  });

  it('manages a webhook endpoint: its secret shown at creation and rotation only', async () => {
    const created = await client.createWebhookEndpoint({
      url: 'https://example.com/hooks/jobstack',
      description: 'alerts',
      eventTypes: ['job.failed'],
    });
    expect(created.secret).toMatch(/^whsec_/);

    const read = await client.getWebhookEndpoint(created.id);
    expect(read).toMatchObject({
      id: created.id,
      description: 'alerts',
      eventTypes: ['job.failed'],
    });
    expect(read).not.toHaveProperty('secret');
    const page = await client.listWebhookEndpoints({ limit: 100 });
    expect(page.webhookEndpoints.map((endpoint) => endpoint.id)).toContain(created.id);
    const second = await client.createWebhookEndpoint({ url: 'https://example.com/hooks/second' });
    const iterated = [];
    for await (const endpoint of client.iterateWebhookEndpoints({ limit: 1 })) {
      iterated.push(endpoint.id);
    }
    // newest first, one page each, none twice
    expect(iterated.slice(0, 2)).toEqual([second.id, created.id]);
    expect(new Set(iterated).size).toBe(iterated.length);
    await client.deleteWebhookEndpoint(second.id);

    const updated = await client.updateWebhookEndpoint(created.id, { description: 'on-call' });
    expect(updated.description).toBe('on-call');

    const rotated = await client.rotateWebhookEndpointSecret(created.id);
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(created.secret);
    expect(rotated.previousSecretExpiresAt).not.toBeNull();

    await client.deleteWebhookEndpoint(created.id);
    await expect(client.getWebhookEndpoint(created.id)).rejects.toMatchObject({
      status: 404,
      slug: 'webhook-endpoint-not-found',
    });
  });

  it('answers the first job for a repeated Idempotency-Key', async () => {
    const input = { type: 'system.echo' as const, payload: { data: 'once' }, runAt: inAnHour() };
    const first = await client.createJob(input, { idempotencyKey: 'order-1234' });
    const again = await client.createJob(input, { idempotencyKey: 'order-1234' });
    expect(again.id).toBe(first.id);
  });

  it('throws problems as JobstackApiError with their members', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    const notFound = await client.getJob(missing).catch((error: unknown) => error);
    expect(notFound).toBeInstanceOf(JobstackApiError);
    expect(notFound).toMatchObject({
      status: 404,
      type: 'https://jobstack.dev/problems/job-not-found',
      slug: 'job-not-found',
      title: 'Job not found',
      detail: `There is no job with id ${missing}.`,
      requestId: expect.any(String),
      problem: { jobId: missing, instance: `/v1/jobs/${missing}` },
    });

    const invalid = await client
      .createJob({ type: 'system.echo', payload: { data: 1 }, maxAttempts: 0 })
      .catch((error: unknown) => error);
    expect(invalid).toMatchObject({
      status: 400,
      slug: 'validation-failed',
      problem: { errors: [expect.objectContaining({ path: ['body', 'maxAttempts'] })] },
    });

    // what a JavaScript caller, or a client older than the api, may send
    const unknownType = await client
      .createJob({ type: 'no.such-type', payload: {} } as unknown as CreateJobInput)
      .catch((error: unknown) => error);
    expect(unknownType).toMatchObject({
      status: 400,
      slug: 'unknown-job-type',
      problem: { knownTypes: expect.arrayContaining(['system.echo']) },
    });

    const stranger = createJobstackClient({ baseUrl, apiKey: 'not-a-key-of-this-api' });
    await expect(stranger.listJobs()).rejects.toMatchObject({ status: 401, slug: 'unauthorized' });
  });

  it('lists jobs page by page, and iterates over every page', async () => {
    const created = [];
    for (const data of ['a', 'b', 'c']) {
      created.push(
        await client.createJob({ type: 'system.echo', payload: { data }, runAt: inAnHour() }),
      );
    }
    const page = await client.listJobs({ limit: 2, status: 'queued' });
    expect(page.jobs).toHaveLength(2);
    expect(page.nextCursor).not.toBeNull();

    const seen: string[] = [];
    for await (const job of client.iterateJobs({ limit: 2, status: 'queued' })) seen.push(job.id);
    expect(seen).toEqual(expect.arrayContaining(created.map((job) => job.id)));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('waitForJob resolves on a cancellation, and times out on a job that does not finish', async () => {
    const delayed = await client.createJob({
      type: 'system.echo',
      payload: { data: 'later' },
      runAt: inAnHour(),
    });
    const timedOut = await client
      .waitForJob(delayed.id, { timeoutMs: 1_500, pollIntervalMs: 200 })
      .catch((error: unknown) => error);
    expect(timedOut).toBeInstanceOf(WaitForJobTimeoutError);
    expect((timedOut as WaitForJobTimeoutError).job).toMatchObject({
      id: delayed.id,
      status: 'queued',
    });

    // the wait is a long-poll (Prefer: wait), which the cancellation ends
    const waiting = client.waitForJob(delayed.id, { timeoutMs: 60_000 });
    const cancelled = await client.cancelJob(delayed.id);
    expect(cancelled.status).toBe('cancelled');
    expect(await waiting).toMatchObject({ id: delayed.id, status: 'cancelled' });

    await expect(client.cancelJob(delayed.id)).rejects.toMatchObject({
      status: 409,
      slug: 'job-not-cancellable',
      problem: { jobStatus: 'cancelled' },
    });

    // a cancelled job can be run again: one retry, answered again when asked twice
    const retry = await client.retryJob(delayed.id);
    expect(retry).toMatchObject({ retryOf: delayed.id, status: 'queued' });
    expect((await client.retryJob(delayed.id)).id).toBe(retry.id);
  });

  it('lists the schedules a page at a time, and iterates over all of them', async () => {
    // the api lists the schedules declared in code even before beat has run
    const first = await client.listSchedules({ limit: 1 });
    expect(first.schedules).toHaveLength(1);
    expect(first.nextCursor).not.toBeNull();
    for (const key of ['client.a', 'client.b']) {
      await client.createSchedule({ key, type: 'system.echo', payload: {}, everySeconds: 3_600 });
    }
    const second = await client.listSchedules({ limit: 1, cursor: first.nextCursor ?? '' });
    expect(second.schedules[0]?.key).not.toBe(first.schedules[0]?.key);

    const iterated = [];
    for await (const schedule of client.iterateSchedules({ limit: 1 })) iterated.push(schedule);
    expect(iterated).toContainEqual(
      expect.objectContaining({ key: 'maintenance.reconcile', source: 'code', everySeconds: 60 }),
    );
    // code-declared first, then the API's by key: every page followed, none twice
    expect(iterated.filter((s) => s.source === 'api').map((s) => s.key)).toEqual([
      'client.a',
      'client.b',
    ]);
    expect(new Set(iterated.map((s) => s.key)).size).toBe(iterated.length);
    expect(iterated.findIndex((s) => s.source === 'api')).toBe(
      iterated.filter((s) => s.source === 'code').length,
    );
    for (const key of ['client.a', 'client.b']) await client.deleteSchedule(key);
  });

  it('retries a 503 with the same Idempotency-Key, and the job is created once', {
    timeout: 120_000,
  }, async () => {
    const attempts: { key: string | null; status: number; problemType?: string }[] = [];
    const observed = createJobstackClient({
      baseUrl,
      apiKey: API_KEY,
      retry: { maxAttempts: 30, baseDelayMs: 200, maxDelayMs: 1_000 },
      fetch: async (request) => {
        const key = request.headers.get('idempotency-key');
        const response = await fetch(request);
        const problemType =
          response.status === 503
            ? ((await response.clone().json()) as { type: string }).type
            : undefined;
        attempts.push({ key, status: response.status, ...(problemType ? { problemType } : {}) });
        // Redis comes back once the api has answered 503: the retries find it up
        if (response.status === 503 && attempts.length === 1) await redis.start();
        return response;
      },
    });

    await redis.stop();
    const job = await observed.createJob({
      type: 'system.echo',
      payload: { data: 'through an outage' },
    });

    expect(attempts[0]).toMatchObject({
      status: 503,
      problemType: 'https://jobstack.dev/problems/queue-unavailable',
    });
    expect(attempts.length).toBeGreaterThan(1);
    // the answer that counted is the repeat of the first request: 200 with the job it recorded
    expect(attempts.at(-1)?.status).toBe(200);
    const keys = new Set(attempts.map((attempt) => attempt.key));
    expect(keys.size).toBe(1);
    expect(job.idempotencyKey).toBe(attempts[0]?.key);

    const sameData = [];
    for await (const listed of client.iterateJobs({ type: 'system.echo' })) {
      if ((listed.payload as { data?: unknown }).data === 'through an outage')
        sameData.push(listed);
    }
    expect(sameData.map((listed) => listed.id)).toEqual([job.id]);
    // and it runs, once Redis has it
    expect(await client.waitForJob(job.id, { timeoutMs: 60_000 })).toMatchObject({
      status: 'succeeded',
    });
  });

  it('retries a request whose connection was cut, and gives up after its attempts', async () => {
    const proxy = await flakyProxy(apiPort, 2);
    try {
      const throughProxy = createJobstackClient({
        baseUrl: proxy.url,
        apiKey: API_KEY,
        retry: { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 200 },
      });
      expect((await throughProxy.listSchedules()).schedules.length).toBeGreaterThan(0);
      expect(proxy.dropped()).toBe(2);

      const once = createJobstackClient({
        baseUrl: `http://127.0.0.1:${await freePort()}`,
        apiKey: API_KEY,
        retry: { maxAttempts: 2, baseDelayMs: 50 },
      });
      await expect(once.listJobs()).rejects.toThrow(JobstackConnectionError);
    } finally {
      proxy.server.close();
    }
  });

  describe('POSTs without an Idempotency-Key whose answer is lost', () => {
    /** Sends through a proxy that loses the first answer; up to 3 attempts; `sent` lists them. */
    async function losingOneAnswer() {
      const proxy = await answerLosingProxy(apiPort, 1);
      const sent: string[] = [];
      const through = createJobstackClient({
        baseUrl: proxy.url,
        apiKey: API_KEY,
        retry: { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 200 },
        fetch: (request) => {
          sent.push(`${request.method} ${new URL(request.url).pathname}`);
          return fetch(request);
        },
      });
      return { proxy, through, sent };
    }
    async function jobsWhere(
      match: (job: Awaited<ReturnType<JobstackClient['getJob']>>) => boolean,
    ) {
      const found = [];
      for await (const job of client.iterateJobs({ type: 'system.echo' })) {
        if (match(job)) found.push(job);
      }
      return found;
    }

    it('repeats cancel, retry and create schedule, and answers as the first attempt would have', async () => {
      const delayed = await client.createJob({
        type: 'system.echo',
        payload: { data: 'answer lost' },
        runAt: inAnHour(),
      });

      const cancel = await losingOneAnswer();
      try {
        // the first attempt cancelled it; the repeat is refused as too late, which is the answer
        expect(await cancel.through.cancelJob(delayed.id)).toMatchObject({
          id: delayed.id,
          status: 'cancelled',
        });
        const path = `/v1/jobs/${delayed.id}`;
        expect(cancel.sent).toEqual([`POST ${path}/cancel`, `POST ${path}/cancel`, `GET ${path}`]);
      } finally {
        cancel.proxy.server.close();
      }

      const retry = await losingOneAnswer();
      try {
        const retried = await retry.through.retryJob(delayed.id);
        expect(retried).toMatchObject({ retryOf: delayed.id });
        expect(retry.sent).toEqual(Array(2).fill(`POST /v1/jobs/${delayed.id}/retry`));
        // the repeat answered the retry the first attempt made: there is one
        expect((await jobsWhere((job) => job.retryOf === delayed.id)).map((job) => job.id)).toEqual(
          [retried.id],
        );
      } finally {
        retry.proxy.server.close();
      }

      const input = {
        key: 'client.answer-lost',
        type: 'system.echo',
        payload: { data: { b: 1, a: [2] } },
        cron: '0 4 * * *',
        paused: true,
      };
      const create = await losingOneAnswer();
      try {
        expect(await create.through.createSchedule(input)).toMatchObject({
          key: input.key,
          source: 'api',
          timezone: 'UTC',
          paused: true,
        });
        expect(create.sent).toEqual([
          'POST /v1/schedules',
          'POST /v1/schedules',
          `GET /v1/schedules/${input.key}`,
        ]);
      } finally {
        create.proxy.server.close();
      }
      // a schedule that is not what the call asked for is someone else's: the 409 stands
      const other = await losingOneAnswer();
      try {
        await expect(
          other.through.createSchedule({ ...input, paused: false }),
        ).rejects.toMatchObject({ status: 409, slug: 'schedule-exists' });
        expect(other.sent).toEqual([
          'POST /v1/schedules',
          'POST /v1/schedules',
          `GET /v1/schedules/${input.key}`,
        ]);
      } finally {
        other.proxy.server.close();
      }
      await client.deleteSchedule(input.key);
    });

    it('does not repeat trigger or rotate-secret: a repeat would run the schedule or rotate twice', async () => {
      const key = 'client.trigger-once';
      await client.createSchedule({
        key,
        type: 'system.echo',
        payload: {},
        everySeconds: 3_600,
        paused: true,
      });
      const trigger = await losingOneAnswer();
      try {
        await expect(trigger.through.triggerSchedule(key)).rejects.toThrow(JobstackConnectionError);
        expect(trigger.sent).toEqual([`POST /v1/schedules/${key}/trigger`]);
      } finally {
        trigger.proxy.server.close();
      }
      // the one attempt ran it once
      expect(await jobsWhere((job) => job.schedulerId === key)).toHaveLength(1);
      await client.deleteSchedule(key);

      const endpoint = await client.createWebhookEndpoint({
        url: 'https://example.com/hooks/once',
      });
      const rotate = await losingOneAnswer();
      try {
        await expect(rotate.through.rotateWebhookEndpointSecret(endpoint.id)).rejects.toThrow(
          JobstackConnectionError,
        );
        expect(rotate.sent).toEqual([`POST /v1/webhook-endpoints/${endpoint.id}/rotate-secret`]);
      } finally {
        rotate.proxy.server.close();
      }
      // rotated once: the secret it was created with still signs, for a while
      expect((await client.getWebhookEndpoint(endpoint.id)).previousSecretExpiresAt).not.toBeNull();
      await client.deleteWebhookEndpoint(endpoint.id);
    });
  });
});

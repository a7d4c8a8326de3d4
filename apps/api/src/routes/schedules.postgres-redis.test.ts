import { randomUUID } from 'node:crypto';
import {
  createFairScheduler,
  declaredSchedules,
  QUEUE_NAME,
  resolveJobLimits,
  watchScheduleChanges,
} from '@repo/jobs';
import { READY_DEADLINE_MS, TEST_REDIS_URL } from '@repo/testing';
import { type Job, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PROBLEM_TYPE_BASE } from '../problems.ts';
import {
  type ApiUnderTest,
  auth,
  startApiUnderTest,
  TEST_METRICS_TOKEN,
} from '../testing/api-under-test.ts';

/** The code-declared schedules as the list shows them: by key, in byte order. */
const declaredKeys = declaredSchedules.map((declaration) => declaration.id).sort();
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const hook = { url: 'https://example.com/hook', body: { report: 'nightly' } };
const nightly = {
  key: 'reports.nightly',
  type: 'webhook.deliver',
  payload: hook,
  cron: '30 2 * * *',
  timezone: 'Europe/Berlin',
  description: 'the nightly report',
};

describe('schedules endpoints (real PostgreSQL and Redis)', () => {
  let api: ApiUnderTest;
  let subscriber: Redis;
  const announced: string[] = [];
  const post = (body: unknown) =>
    request(api.url)
      .post('/v1/schedules')
      .set(auth)
      .send(body as object);
  const patch = (key: string, body: unknown) =>
    request(api.url)
      .patch(`/v1/schedules/${key}`)
      .set(auth)
      .send(body as object);

  /** Waits until the api has announced a change of `key` (what beat listens to). */
  async function announcedChange(key: string, times: number): Promise<void> {
    await vi.waitFor(
      () => expect(announced.filter((changed) => changed === key).length).toBe(times),
      { timeout: READY_DEADLINE_MS, interval: 20 },
    );
  }

  beforeAll(async () => {
    api = await startApiUnderTest('api-schedules');
    subscriber = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    await watchScheduleChanges(subscriber, api.prefix, (key) => announced.push(key));
  });
  afterAll(async () => {
    subscriber?.disconnect();
    await api?.close();
  });

  describe('POST /v1/schedules', () => {
    it('records the schedule, announces it to beat and answers 201 with its next runs in its time zone', async () => {
      const res = await post(nightly);

      expect(res.status).toBe(201);
      expect(res.headers.location).toBe('/v1/schedules/reports.nightly');
      expect(res.body).toEqual({
        ...nightly,
        source: 'api',
        everySeconds: null,
        paused: false,
        nextRuns: expect.any(Array),
        lastJob: null,
        createdAt: expect.stringMatching(ISO),
        updatedAt: expect.stringMatching(ISO),
        links: {
          self: '/v1/schedules/reports.nightly',
          trigger: '/v1/schedules/reports.nightly/trigger',
        },
      });
      // 02:30 in Berlin: 00:30 or 01:30 UTC, depending on daylight saving time
      expect(res.body.nextRuns).toHaveLength(5);
      for (const run of res.body.nextRuns) expect(run).toMatch(/T0[01]:30:00\.000Z$/);
      expect(Date.parse(res.body.nextRuns[0])).toBeGreaterThan(Date.now());

      expect(
        await api.db.prisma.schedule.findUnique({ where: { key: nightly.key } }),
      ).toMatchObject({
        type: 'webhook.deliver',
        cron: '30 2 * * *',
        timezone: 'Europe/Berlin',
        paused: false,
      });
      await announcedChange(nightly.key, 1);
    });

    it('defaults the time zone of a cron schedule to UTC, and takes an interval instead', async () => {
      const utc = await post({
        key: 'echo.utc',
        type: 'system.echo',
        payload: {},
        cron: '0 9 * * 1',
      });
      expect(utc.status).toBe(201);
      expect(utc.body).toMatchObject({ timezone: 'UTC', everySeconds: null });
      for (const run of utc.body.nextRuns) expect(run).toMatch(/T09:00:00\.000Z$/);

      const every = await post({
        key: 'echo.hourly',
        type: 'system.echo',
        payload: { data: 1 },
        everySeconds: 3_600,
        paused: true,
      });
      expect(every.status).toBe(201);
      // paused: it has no next run
      expect(every.body).toMatchObject({
        cron: null,
        timezone: null,
        everySeconds: 3_600,
        nextRuns: [],
      });
    });

    it.each([
      [
        'neither cron nor everySeconds',
        { key: 'k', type: 'system.echo', payload: {} },
        ['body', 'cron'],
        /either cron.*or everySeconds/,
      ],
      [
        'both cron and everySeconds',
        { key: 'k', type: 'system.echo', payload: {}, cron: '* * * * *', everySeconds: 60 },
        ['body', 'cron'],
        /not both/,
      ],
      [
        'a cron expression that is not one',
        { key: 'k', type: 'system.echo', payload: {}, cron: '61 * * * *' },
        ['body', 'cron'],
        /not a cron expression/,
      ],
      [
        'an unknown time zone',
        { key: 'k', type: 'system.echo', payload: {}, cron: '0 * * * *', timezone: 'Mars/Base' },
        ['body', 'timezone'],
        /IANA/,
      ],
      [
        'a time zone on an interval',
        { key: 'k', type: 'system.echo', payload: {}, everySeconds: 60, timezone: 'UTC' },
        ['body', 'timezone'],
        /cron schedules only/,
      ],
      [
        'a payload the type refuses',
        { key: 'k', type: 'webhook.deliver', payload: { url: 42 }, everySeconds: 60 },
        ['body', 'payload', 'url'],
        /./,
      ],
      [
        'a payload PostgreSQL cannot store (NUL)',
        { key: 'k', type: 'system.echo', payload: { data: 'a\u0000b' }, everySeconds: 60 },
        ['body', 'payload', 'data'],
        /NUL/,
      ],
      [
        'a key with a slash',
        { key: 'a/b', type: 'system.echo', payload: {}, everySeconds: 60 },
        ['body', 'key'],
        /letters, digits/,
      ],
      [
        'an interval of zero',
        { key: 'k', type: 'system.echo', payload: {}, everySeconds: 0 },
        ['body', 'everySeconds'],
        /./,
      ],
    ])(
      'answers 400 naming the field for %s, and records nothing',
      async (_case, body, path, message) => {
        const res = await post(body);
        expect(res.status).toBe(400);
        expect(res.body.type).toBe(`${PROBLEM_TYPE_BASE}validation-failed`);
        expect(res.body.errors).toContainEqual(
          expect.objectContaining({ path, message: expect.stringMatching(message) }),
        );
        expect(await api.db.prisma.schedule.count({ where: { key: body.key } })).toBe(0);
      },
    );

    it('answers 400 unknown-job-type for a type clients may not enqueue', async () => {
      const res = await post({
        key: 'k',
        type: 'maintenance.prune',
        payload: {},
        everySeconds: 60,
      });
      expect(res.status).toBe(400);
      expect(res.body.type).toBe(`${PROBLEM_TYPE_BASE}unknown-job-type`);
      expect(res.body.knownTypes).toContain('system.echo');
    });

    it('answers 409 for a key that is taken, by a schedule of the API or one declared in code', async () => {
      const taken = await post({ ...nightly, cron: '0 * * * *' });
      expect(taken.status).toBe(409);
      expect(taken.body).toMatchObject({
        type: `${PROBLEM_TYPE_BASE}schedule-exists`,
        key: nightly.key,
      });
      // the first definition stands
      const kept = await request(api.url).get('/v1/schedules/reports.nightly').set(auth);
      expect(kept.body.cron).toBe('30 2 * * *');

      const code = await post({
        key: 'maintenance.prune',
        type: 'system.echo',
        payload: {},
        everySeconds: 60,
      });
      expect(code.status).toBe(409);
      expect(code.body).toMatchObject({
        type: `${PROBLEM_TYPE_BASE}schedule-exists`,
        source: 'code',
      });
    });
  });

  describe('GET /v1/schedules', () => {
    it('lists the schedules declared in code, read-only, and those of the API', async () => {
      const res = await request(api.url).get('/v1/schedules').set(auth);
      expect(res.status).toBe(200);
      const byKey = new Map(
        (res.body.schedules as { key: string; source: string }[]).map((s) => [s.key, s]),
      );
      expect([...byKey.keys()]).toEqual([
        ...declaredKeys,
        'echo.hourly',
        'echo.utc',
        'reports.nightly',
      ]);
      expect(res.body).toMatchObject({
        nextCursor: null,
        links: { self: '/v1/schedules?limit=20', next: null },
      });
      expect(byKey.get('maintenance.reconcile')).toMatchObject({
        source: 'code',
        type: 'maintenance.reconcile',
        cron: null,
        everySeconds: 60,
        createdAt: null,
      });
      expect(byKey.get('maintenance.prune')).toMatchObject({
        source: 'code',
        cron: '15 3 * * *',
        timezone: 'UTC',
        nextRuns: expect.arrayContaining([expect.stringMatching(/T03:15:00\.000Z$/)]),
      });
      expect(byKey.get('reports.nightly')).toMatchObject({ source: 'api', paused: false });
    });

    it('pages through code-declared schedules first, then those of the API, each by key', async () => {
      // a row under a key that code declares is not applied (code wins), and not listed twice
      await api.db.prisma.schedule.create({
        data: { ...nightly, key: 'maintenance.prune', payload: {} },
      });
      const keys: string[] = [];
      let next: string | null = '/v1/schedules?limit=2';
      let pages = 0;
      while (next !== null) {
        const page: request.Response = await request(api.url).get(next).set(auth);
        expect(page.status).toBe(200);
        expect(page.body.links.self).toBe(next);
        expect(page.body.schedules.length).toBeGreaterThan(0);
        expect(page.body.schedules.length).toBeLessThanOrEqual(2);
        keys.push(...page.body.schedules.map((schedule: { key: string }) => schedule.key));
        if (page.body.nextCursor === null) {
          expect(page.body.links.next).toBeNull();
        } else {
          expect(page.body.links.next).toBe(`/v1/schedules?limit=2&cursor=${page.body.nextCursor}`);
        }
        next = page.body.links.next;
        pages += 1;
        if (pages === 1) {
          // created while paging, after the position: the next pages show it
          expect((await post({ ...nightly, key: 'zz.created-while-paging' })).status).toBe(201);
        }
      }
      const all = [...declaredKeys, 'echo.hourly', 'echo.utc', 'reports.nightly'];
      expect(keys).toEqual([...all, 'zz.created-while-paging']);
      expect(pages).toBe(Math.ceil(keys.length / 2));

      // a page that ends on the last code-declared schedule: the next starts with the API's
      const codeOnly = await request(api.url)
        .get(`/v1/schedules?limit=${declaredKeys.length}`)
        .set(auth);
      expect(codeOnly.body.schedules.map((s: { key: string }) => s.key)).toEqual(declaredKeys);
      expect(codeOnly.body.nextCursor).not.toBeNull();
      const rest = await request(api.url)
        .get(`/v1/schedules?limit=10&cursor=${codeOnly.body.nextCursor}`)
        .set(auth);
      expect(rest.body.schedules.map((s: { key: string }) => s.key)).toEqual([
        'echo.hourly',
        'echo.utc',
        'reports.nightly',
        'zz.created-while-paging',
      ]);
      expect(rest.body.nextCursor).toBeNull();

      await api.db.prisma.schedule.delete({ where: { key: 'maintenance.prune' } });
      expect(
        (await request(api.url).delete('/v1/schedules/zz.created-while-paging').set(auth)).status,
      ).toBe(204);
    });

    it('answers 400 naming the parameter for a cursor it did not issue or a limit out of range', async () => {
      for (const cursor of [
        'nonsense!',
        'bm90LWEtY3Vyc29y',
        Buffer.from('job:x').toString('base64url'),
      ]) {
        const res = await request(api.url).get(`/v1/schedules?cursor=${cursor}`).set(auth);
        expect(res.status, cursor).toBe(400);
        expect(res.body).toMatchObject({
          type: `${PROBLEM_TYPE_BASE}invalid-cursor`,
          detail: expect.stringMatching(/cursor/),
        });
      }
      for (const [query, path] of [
        ['limit=0', ['query', 'limit']],
        ['limit=101', ['query', 'limit']],
        ['limit=two', ['query', 'limit']],
        ['cursor=', ['query', 'cursor']],
        ['sort=key', ['query']],
      ] as const) {
        const res = await request(api.url).get(`/v1/schedules?${query}`).set(auth);
        expect(res.status, query).toBe(400);
        expect(res.body.type).toBe(`${PROBLEM_TYPE_BASE}validation-failed`);
        expect(res.body.errors[0].path, query).toEqual(path);
      }
    });

    it('answers 404 for an unknown key', async () => {
      const res = await request(api.url).get('/v1/schedules/nothing.here').set(auth);
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({
        type: `${PROBLEM_TYPE_BASE}schedule-not-found`,
        key: 'nothing.here',
      });
    });
  });

  describe('PATCH /v1/schedules/:key', () => {
    it('changes only the fields given, and announces the change', async () => {
      const paused = await patch('reports.nightly', { paused: true, description: null });
      expect(paused.status).toBe(200);
      expect(paused.body).toMatchObject({
        ...nightly,
        description: null,
        paused: true,
        nextRuns: [],
      });
      await announcedChange('reports.nightly', 2);

      // a new expression keeps the time zone
      const moved = await patch('reports.nightly', { cron: '0 4 * * *', paused: false });
      expect(moved.body).toMatchObject({ cron: '0 4 * * *', timezone: 'Europe/Berlin' });
      for (const run of moved.body.nextRuns) expect(run).toMatch(/T0[23]:00:00\.000Z$/);

      // switching to an interval drops the cron expression and its time zone
      const every = await patch('reports.nightly', { everySeconds: 900 });
      expect(every.body).toMatchObject({ cron: null, timezone: null, everySeconds: 900 });
      expect(Date.parse(every.body.updatedAt)).toBeGreaterThanOrEqual(
        Date.parse(paused.body.updatedAt),
      );
    });

    it('refuses a change that leaves the schedule invalid, and keeps it as it was', async () => {
      const before = (await request(api.url).get('/v1/schedules/reports.nightly').set(auth)).body;
      const tz = await patch('reports.nightly', { timezone: 'Europe/Paris' });
      expect(tz.status).toBe(400);
      expect(tz.body.errors).toContainEqual(
        expect.objectContaining({ path: ['body', 'timezone'] }),
      );
      // a new type must accept the payload the schedule has
      const type = await patch('reports.nightly', { type: 'system.echo', payload: { data: 1 } });
      expect(type.status).toBe(200);
      const back = await patch('reports.nightly', { type: 'webhook.deliver' });
      expect(back.status).toBe(400);
      // system.echo's payload is not a delivery: neither an endpointId nor a url, and an unknown key
      expect(back.body.errors).toContainEqual(
        expect.objectContaining({ code: 'unrecognized_keys', path: ['body', 'payload'] }),
      );
      const restored = await patch('reports.nightly', { type: 'webhook.deliver', payload: hook });
      expect(restored.status).toBe(200);
      expect(restored.body).toMatchObject({ ...before, updatedAt: expect.any(String) });
    });

    it('answers 409 for a schedule declared in code and 404 for an unknown key', async () => {
      const code = await patch('maintenance.prune', { paused: true });
      expect(code.status).toBe(409);
      expect(code.body).toMatchObject({
        type: `${PROBLEM_TYPE_BASE}schedule-read-only`,
        key: 'maintenance.prune',
        source: 'code',
      });
      expect((await patch('nothing.here', { paused: true })).status).toBe(404);
    });
  });

  describe('POST /v1/schedules/:key/trigger', () => {
    it('runs the schedule once now through the normal job path, and shows it as its last job', async () => {
      const res = await request(api.url).post('/v1/schedules/reports.nightly/trigger').set(auth);
      expect(res.status).toBe(202);
      const { id } = res.body;
      expect(res.headers.location).toBe(`/v1/jobs/${id}`);
      expect(res.body).toMatchObject({
        type: 'webhook.deliver',
        status: 'queued',
        payload: hook,
        schedulerId: 'reports.nightly',
      });
      expect(await api.jobs.findById(id)).toMatchObject({ schedulerId: 'reports.nightly' });
      const queued = await api.queue.getJob(id);
      expect(queued?.name).toBe('webhook.deliver');

      const schedule = await request(api.url).get('/v1/schedules/reports.nightly').set(auth);
      expect(schedule.body.lastJob).toEqual({
        id,
        status: 'queued',
        createdAt: res.body.createdAt,
        links: { self: `/v1/jobs/${id}` },
      });
    });

    it('answers 409 for a schedule declared in code and 404 for an unknown key', async () => {
      const code = await request(api.url).post('/v1/schedules/maintenance.prune/trigger').set(auth);
      expect(code.status).toBe(409);
      expect(code.body.type).toBe(`${PROBLEM_TYPE_BASE}schedule-read-only`);
      const missing = await request(api.url).post('/v1/schedules/nothing.here/trigger').set(auth);
      expect(missing.status).toBe(404);
    });
  });

  describe('DELETE /v1/schedules/:key', () => {
    it('deletes the schedule, announces it, and answers 404 after', async () => {
      const before = announced.filter((key) => key === 'echo.utc').length;
      const res = await request(api.url).delete('/v1/schedules/echo.utc').set(auth);
      expect(res.status).toBe(204);
      await announcedChange('echo.utc', before + 1);
      expect((await request(api.url).get('/v1/schedules/echo.utc').set(auth)).status).toBe(404);
      expect((await request(api.url).delete('/v1/schedules/echo.utc').set(auth)).status).toBe(404);
    });

    it('answers 409 for a schedule declared in code, which stays', async () => {
      const res = await request(api.url).delete('/v1/schedules/maintenance.reconcile').set(auth);
      expect(res.status).toBe(409);
      expect(res.body.type).toBe(`${PROBLEM_TYPE_BASE}schedule-read-only`);
      const kept = await request(api.url).get('/v1/schedules/maintenance.reconcile').set(auth);
      expect(kept.status).toBe(200);
    });
  });

  it('answers 405 with Allow for other methods', async () => {
    const put = await request(api.url).put('/v1/schedules/reports.nightly').set(auth).send({});
    expect(put.status).toBe(405);
    expect(put.headers.allow).toBe('GET, HEAD, PATCH, DELETE, OPTIONS');
    const get = await request(api.url).get('/v1/schedules/reports.nightly/trigger').set(auth);
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST, OPTIONS');
  });
});

describe('POST /v1/schedules/:key/trigger with park on arrival (real PostgreSQL and Redis)', () => {
  let api: ApiUnderTest;
  let worker: Worker;
  // a worker's own connection: BullMQ's workers block on theirs
  let connection: Redis;
  beforeAll(async () => {
    api = await startApiUnderTest('api-schedules-arrival', {
      env: { JOB_LIMITS: JSON.stringify({ 'webhook.deliver': { maxConcurrent: 1 } }) },
    });
    connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    worker = new Worker(QUEUE_NAME, null, {
      connection,
      prefix: api.prefix,
      lockDuration: 30_000,
      autorun: false,
    });
  });
  afterAll(async () => {
    await worker?.close(true);
    connection?.disconnect();
    await api?.close();
  });

  it('adds a run of a type at its maxConcurrent already parked, and counts it', async () => {
    expect((await request(api.url).post('/v1/schedules').set(auth).send(nightly)).status).toBe(201);
    const trigger = () => request(api.url).post('/v1/schedules/reports.nightly/trigger').set(auth);
    const first = await trigger().expect(202);
    expect(await api.queue.getJobState(first.body.id)).toBe('prioritized');
    // a worker takes the type's one slot, as the worker's processor does
    const fair = createFairScheduler({
      queue: api.queue,
      connection,
      limits: resolveJobLimits(api.config.JOB_LIMITS),
    });
    const token = randomUUID();
    const running = await worker.getNextJob(token, { block: false });
    expect(running?.id).toBe(first.body.id);
    expect(await fair.admit(running as Job, token, 'webhook.deliver', null)).toBe(true);

    const second = await trigger().expect(202);
    expect(await api.queue.getJobState(second.body.id)).toBe('delayed');
    const job = await request(api.url).get(`/v1/jobs/${second.body.id}`).set(auth).expect(200);
    expect(job.body).toMatchObject({ status: 'queued', waitingFor: 'concurrency' });
    const metrics = await request(api.url)
      .get('/metrics')
      .set('Authorization', `Bearer ${TEST_METRICS_TOKEN}`)
      .expect(200);
    expect(metrics.text).toContain(
      'jobstack_jobs_parked_total{type="webhook.deliver",where="arrival"} 1',
    );
    // the slot freed, the parked run is woken
    await fair.release(first.body.id, 'webhook.deliver', null);
    expect(await api.queue.getJobState(second.body.id)).toBe('prioritized');
  });
});

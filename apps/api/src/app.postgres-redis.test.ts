import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_TYPE_BASE } from './problems.ts';
import {
  type ApiUnderTest,
  auth,
  ROTATED_API_KEY,
  startApiUnderTest,
  TEST_ADMIN,
  TEST_METRICS_TOKEN,
} from './testing/api-under-test.ts';

const basic = (username: string, password: string) =>
  `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

describe('HTTP API (real PostgreSQL and Redis)', () => {
  let api: ApiUnderTest;

  beforeAll(async () => {
    api = await startApiUnderTest('api-app');
  });
  afterAll(async () => {
    await api?.close();
  });

  describe('health', () => {
    it('reports the process and both dependencies without authentication', async () => {
      const live = await request(api.url).get('/health/live');
      expect(live.status).toBe(200);
      expect(live.body).toMatchObject({ status: 'ok', service: 'api', version: 'test' });

      const full = await request(api.url).get('/health');
      expect(full.status).toBe(200);
      expect(full.body.checks).toEqual({
        database: { status: 'ok', latency_ms: expect.any(Number) },
        redis: { status: 'ok', latency_ms: expect.any(Number) },
        redis_eviction_policy: { status: 'ok', latency_ms: expect.any(Number) },
      });
      expect(full.body.uptime_seconds).toEqual(expect.any(Number));

      const ready = await request(api.url).get('/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body.lifecycle).toBe('ready');
    });

    it('answers 405 with Allow for another method', async () => {
      const res = await request(api.url).post('/health/ready');
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD, OPTIONS');
      expect(res.body.type).toBe(`${PROBLEM_TYPE_BASE}method-not-allowed`);
    });
  });

  describe('authentication on /v1', () => {
    it('answers 401 with a Bearer challenge without a key, with a wrong one or another scheme', async () => {
      const attempts: (string | undefined)[] = [
        undefined,
        'Bearer wrong-key-0123456789abcdef',
        'Bearer ',
        `Basic ${Buffer.from('a:b').toString('base64')}`,
        'test-api-key-0123456789abcdef',
      ];
      for (const header of attempts) {
        const req = request(api.url).get('/v1/jobs');
        const res = await (header === undefined ? req : req.set('Authorization', header));
        expect(res.status, String(header)).toBe(401);
        expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="jobstack"/);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.body.type).toBe(`${PROBLEM_TYPE_BASE}unauthorized`);
      }
    });

    it('accepts every configured key, so keys can be rotated, and any case of the scheme', async () => {
      await request(api.url).get('/v1/jobs').set(auth).expect(200);
      await request(api.url)
        .get('/v1/jobs')
        .set('Authorization', `Bearer ${ROTATED_API_KEY}`)
        .expect(200);
      await request(api.url)
        .get('/v1/jobs')
        .set('Authorization', `bearer ${ROTATED_API_KEY}`)
        .expect(200);
    });

    it('refuses every key when none is configured', async () => {
      const keyless = await startApiUnderTest('api-keyless', { env: { API_KEYS: '' } });
      try {
        const res = await request(keyless.url).get('/v1/jobs').set(auth);
        expect(res.status).toBe(401);
      } finally {
        await keyless.close();
      }
    });
  });

  describe('GET /metrics', () => {
    it('requires the metrics token when one is set', async () => {
      const res = await request(api.url).get('/metrics');
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="metrics"/);
      await request(api.url).get('/metrics').set(auth).expect(401);
    });

    it('counts requests by route template and status and reports the queue depth', async () => {
      const created = await request(api.url)
        .post('/v1/jobs')
        .set(auth)
        .send({ type: 'system.echo', payload: {} });
      await request(api.url).get(`/v1/jobs/${created.body.id}`).set(auth).expect(200);
      await request(api.url).get('/no/such/path').expect(404);

      const res = await request(api.url)
        .get('/metrics')
        .set('Authorization', `Bearer ${TEST_METRICS_TOKEN}`);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      const count = 'jobstack_http_request_duration_seconds_count';
      expect(res.text).toContain(`${count}{method="GET",route="/v1/jobs/:id",status="200"} 1`);
      expect(res.text).toContain(`${count}{method="POST",route="/v1/jobs",status="202"} 1`);
      expect(res.text).toContain(`${count}{method="GET",route="unmatched",status="404"} 1`);
      expect(res.text).toMatch(
        /jobstack_http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/v1\/jobs\/:id",status="200"\}/,
      );
      expect(res.text).not.toContain(created.body.id);
      expect(res.text).toMatch(/jobstack_queue_jobs\{state="waiting"\} [1-9]/);
      expect(res.text).toMatch(/jobstack_queue_jobs\{state="failed"\} 0/);
      expect(res.text).toMatch(/jobstack_jobs_oldest_age_seconds\{status="queued"\} \d/);
      expect(res.text).toMatch(/jobstack_db_batch_size_count [1-9]/);
      expect(res.text).toMatch(/jobstack_redis_memory_bytes\{kind="used"\} [1-9]/);
      expect(res.text).toMatch(/jobstack_redis_noeviction 1/);
    });

    it('is open when no token is configured', async () => {
      const open = await startApiUnderTest('api-open-metrics', { env: { METRICS_TOKEN: '' } });
      try {
        const res = await request(open.url).get('/metrics');
        expect(res.status).toBe(200);
        expect(res.text).toContain('jobstack_queue_jobs');
      } finally {
        await open.close();
      }
    });
  });

  describe('/admin/queues', () => {
    it('asks for basic auth and refuses wrong credentials', async () => {
      for (const header of [
        undefined,
        basic(TEST_ADMIN.username, 'wrong-password'),
        basic('someone', TEST_ADMIN.password),
        basic(TEST_ADMIN.username, ''),
        'Basic !!!not-base64',
        `Bearer ${TEST_ADMIN.password}`,
      ]) {
        const req = request(api.url).get('/admin/queues');
        const res = await (header === undefined ? req : req.set('Authorization', header));
        expect(res.status, String(header)).toBe(401);
        expect(res.headers['www-authenticate']).toBe(
          'Basic realm="queue dashboard", charset="UTF-8"',
        );
      }
    });

    it('serves the dashboard with a CSP that lets it load and its read-only queue API', async () => {
      const authorization = basic(TEST_ADMIN.username, TEST_ADMIN.password);
      const page = await request(api.url).get('/admin/queues').set('Authorization', authorization);
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.text).toContain('<base href="/admin/queues/"');
      const csp = page.headers['content-security-policy'];
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('upgrade-insecure-requests');

      const queues = await request(api.url)
        .get('/admin/queues/api/queues')
        .set('Authorization', authorization);
      expect(queues.status).toBe(200);
      expect(queues.body.queues.map((q: { name: string }) => q.name)).toEqual(['jobs']);
      expect(queues.body.queues[0].readOnlyMode).toBe(true);
    });

    it('does not exist without credentials in the config', async () => {
      const closed = await startApiUnderTest('api-no-admin', {
        env: { ADMIN_USERNAME: '', ADMIN_PASSWORD: '' },
      });
      try {
        const res = await request(closed.url).get('/admin/queues');
        expect(res.status).toBe(404);
        expect(res.body.type).toBe(`${PROBLEM_TYPE_BASE}not-found`);
      } finally {
        await closed.close();
      }
    });
  });

  describe('problems and routing', () => {
    it('answers an unknown route with a 404 problem', async () => {
      const res = await request(api.url).get('/v2/anything?x=1');
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect(res.body).toEqual({
        type: `${PROBLEM_TYPE_BASE}not-found`,
        title: 'Not found',
        status: 404,
        detail: 'Nothing is served at /v2/anything.',
        instance: '/v2/anything',
        requestId: res.headers['x-request-id'],
      });
    });

    it('answers a wrong method on a known route with 405 and Allow', async () => {
      const put = await request(api.url).put('/v1/jobs').set(auth).send({});
      expect(put.status).toBe(405);
      expect(put.headers.allow).toBe('GET, HEAD, POST, OPTIONS');
      const del = await request(api.url)
        .delete('/v1/jobs/00000000-0000-4000-8000-000000000000')
        .set(auth);
      expect(del.status).toBe(405);
      expect(del.headers.allow).toBe('GET, HEAD, OPTIONS');
      const options = await request(api.url).options('/v1/jobs').set(auth);
      expect(options.status).toBe(204);
      expect(options.headers.allow).toBe('GET, HEAD, POST, OPTIONS');
    });

    it('sets security headers on API responses', async () => {
      const res = await request(api.url).get('/v1/jobs').set(auth);
      expect(res.status).toBe(200);
      expect(res.headers['content-security-policy']).toBe(
        "default-src 'none';frame-ancestors 'none'",
      );
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-powered-by']).toBeUndefined();
    });
  });

  describe('request ids', () => {
    it('keeps a sane X-Request-Id, echoes it and puts it on the log lines of the request', async () => {
      const id = 'trace-1234.abc:def';
      const res = await request(api.url)
        .get('/v1/jobs/not-a-uuid')
        .set(auth)
        .set('X-Request-Id', id);
      expect(res.headers['x-request-id']).toBe(id);
      expect(res.body.requestId).toBe(id);

      const lines = api.logs().filter((line) => line.requestId === id);
      expect(lines).toEqual([
        expect.objectContaining({
          msg: 'request completed',
          req: expect.objectContaining({ method: 'GET', url: '/v1/jobs/not-a-uuid' }),
          res: expect.objectContaining({ statusCode: 400 }),
        }),
      ]);
      expect(JSON.stringify(lines)).not.toContain('test-api-key');
    });

    it('logs the client address from X-Forwarded-For only when TRUST_PROXY says so', async () => {
      const forwarded = { 'X-Forwarded-For': '203.0.113.7', 'X-Request-Id': 'direct-1' };
      await request(api.url).get('/v1/jobs/not-a-uuid').set(auth).set(forwarded);
      const direct = api.logs().find((line) => line.requestId === 'direct-1');
      expect(direct?.req).toMatchObject({ remoteAddress: '127.0.0.1' });

      const proxied = await startApiUnderTest('api-proxied', { env: { TRUST_PROXY: '1' } });
      try {
        await request(proxied.url)
          .get('/v1/jobs/not-a-uuid')
          .set(auth)
          .set({ ...forwarded, 'X-Request-Id': 'proxied-1' });
        const line = proxied.logs().find((l) => l.requestId === 'proxied-1');
        expect(line?.req).toMatchObject({ remoteAddress: '203.0.113.7' });
      } finally {
        await proxied.close();
      }
    });

    it('replaces an odd or oversized X-Request-Id with a fresh one', async () => {
      for (const sent of ['x'.repeat(129), 'has space', '<script>', 'line\\nbreak']) {
        const res = await request(api.url).get('/v1/jobs').set(auth).set('X-Request-Id', sent);
        expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      }
    });
  });
});

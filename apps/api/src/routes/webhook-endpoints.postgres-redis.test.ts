import { createJobAttemptLog } from '@repo/db';
import { createSecretBox } from '@repo/webhooks';
import { Webhook } from 'standardwebhooks';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_TYPE_BASE } from '../problems.ts';
import {
  type ApiUnderTest,
  auth,
  startApiUnderTest,
  TEST_WEBHOOK_SECRETS_KEY,
} from '../testing/api-under-test.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const WHSEC = /^whsec_[A-Za-z0-9+/]{43}=$/;
const HOOK = 'https://hooks.example.com/jobstack';

describe('webhook endpoints (real PostgreSQL and Redis)', () => {
  let api: ApiUnderTest;
  const box = createSecretBox(Buffer.from(TEST_WEBHOOK_SECRETS_KEY, 'base64'));
  const create = (body: object) =>
    request(api.url).post('/v1/webhook-endpoints').set(auth).send(body);

  beforeAll(async () => {
    api = await startApiUnderTest('api-webhook-endpoints', {
      env: { WEBHOOK_ALLOW_RAW_URLS: 'false' },
    });
  });
  afterAll(async () => {
    await api?.close();
  });

  describe('POST /v1/webhook-endpoints', () => {
    it('answers 201 with the signing secret, once; the row holds it sealed', async () => {
      const res = await create({
        url: HOOK,
        description: 'failure alerts',
        eventTypes: ['job.failed', 'job.expired'],
        jobTypes: ['system.echo'],
      });
      expect(res.status).toBe(201);
      const { id, secret } = res.body;
      expect(id).toMatch(UUID);
      expect(res.headers.location).toBe(`/v1/webhook-endpoints/${id}`);
      expect(res.body).toEqual({
        id,
        url: HOOK,
        description: 'failure alerts',
        eventTypes: ['job.failed', 'job.expired'],
        jobTypes: ['system.echo'],
        previousSecretExpiresAt: null,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
        links: { self: `/v1/webhook-endpoints/${id}` },
        secret: expect.stringMatching(WHSEC),
      });
      // the format the official library takes
      expect(() => new Webhook(secret)).not.toThrow();

      const { rows } = await api.db.pool.query(
        'SELECT secret FROM webhook_endpoints WHERE id = $1',
        [id],
      );
      expect(rows[0]?.secret).not.toContain(secret.slice(6));
      expect(box.open(rows[0]?.secret, id)).toBe(secret);

      const read = await request(api.url).get(`/v1/webhook-endpoints/${id}`).set(auth);
      expect(read.status).toBe(200);
      expect(read.body).not.toHaveProperty('secret');
      expect(JSON.stringify(read.body)).not.toContain(secret.slice(6));
      const listed = await request(api.url).get('/v1/webhook-endpoints').set(auth);
      expect(JSON.stringify(listed.body)).not.toContain(secret.slice(6));
      expect(JSON.stringify(api.logs())).not.toContain(secret.slice(6));
    });

    it('subscribes to nothing unless told, and generates a new secret for each endpoint', async () => {
      const a = await create({ url: HOOK });
      const b = await create({ url: HOOK });
      expect(a.body).toMatchObject({ eventTypes: [], jobTypes: [], description: null });
      expect(a.body.secret).not.toBe(b.body.secret);
    });

    it.each([
      ['a missing url', {}, ['body', 'url']],
      ['a url of another scheme', { url: 'ftp://hooks.example.com/' }, ['body', 'url']],
      ['a loopback address', { url: 'http://127.0.0.1:8080/hooks' }, ['body', 'url']],
      ['the cloud metadata address', { url: 'http://169.254.169.254/latest' }, ['body', 'url']],
      ['a private address, IPv4-mapped', { url: 'http://[::ffff:10.0.0.1]/' }, ['body', 'url']],
      [
        'an unknown event type',
        { url: HOOK, eventTypes: ['job.started'] },
        ['body', 'eventTypes', 0],
      ],
      [
        'a repeated event type',
        { url: HOOK, eventTypes: ['job.failed', 'job.failed'] },
        ['body', 'eventTypes'],
      ],
      ['an unknown job type', { url: HOOK, jobTypes: ['nope.nothing'] }, ['body', 'jobTypes', 0]],
      ['an unknown field', { url: HOOK, secret: 'whsec_mine' }, ['body']],
    ])('refuses %s with 400 naming the field', async (_case, body, path) => {
      const res = await create(body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        type: `${PROBLEM_TYPE_BASE}validation-failed`,
        errors: expect.arrayContaining([expect.objectContaining({ path })]),
      });
    });

    it('accepts a private address where WEBHOOK_ALLOW_PRIVATE_NETWORKS is on', async () => {
      const open = await startApiUnderTest('api-webhook-endpoints-private', {
        env: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' },
      });
      try {
        const res = await request(open.url)
          .post('/v1/webhook-endpoints')
          .set(auth)
          .send({ url: 'http://127.0.0.1:8080/hooks' });
        expect(res.status).toBe(201);
      } finally {
        await open.close();
      }
    });

    it('answers 503 naming WEBHOOK_SECRETS_KEY when the server has no key to seal secrets with', async () => {
      const keyless = await startApiUnderTest('api-webhook-endpoints-keyless', {
        env: { WEBHOOK_SECRETS_KEY: '' },
      });
      try {
        const res = await request(keyless.url)
          .post('/v1/webhook-endpoints')
          .set(auth)
          .send({ url: HOOK });
        expect(res.status).toBe(503);
        expect(res.body).toMatchObject({
          type: `${PROBLEM_TYPE_BASE}webhook-secrets-unavailable`,
          detail: expect.stringContaining('WEBHOOK_SECRETS_KEY'),
        });
        expect((await keyless.db.pool.query('SELECT 1 FROM webhook_endpoints')).rowCount).toBe(0);
      } finally {
        await keyless.close();
      }
    });
  });

  describe('GET /v1/webhook-endpoints', () => {
    it('lists newest first, a page at a time', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i += 1) ids.push((await create({ url: `${HOOK}/${i}` })).body.id);
      const first = await request(api.url).get('/v1/webhook-endpoints?limit=2').set(auth);
      expect(first.status).toBe(200);
      expect(first.body.webhookEndpoints.map((e: { id: string }) => e.id)).toEqual([
        ids[2],
        ids[1],
      ]);
      expect(first.body.links.next).toBe(
        `/v1/webhook-endpoints?limit=2&cursor=${first.body.nextCursor}`,
      );
      const second = await request(api.url).get(first.body.links.next).set(auth);
      expect(second.body.webhookEndpoints[0].id).toBe(ids[0]);

      const bad = await request(api.url).get('/v1/webhook-endpoints?cursor=nonsense').set(auth);
      expect(bad.status).toBe(400);
      expect(bad.body.type).toBe(`${PROBLEM_TYPE_BASE}invalid-cursor`);
    });
  });

  describe('PATCH, DELETE and rotate-secret', () => {
    it('changes only the fields given', async () => {
      const { id } = (await create({ url: HOOK, description: 'd', eventTypes: ['job.failed'] }))
        .body;
      const res = await request(api.url)
        .patch(`/v1/webhook-endpoints/${id}`)
        .set(auth)
        .send({ eventTypes: ['job.failed', 'job.succeeded'], description: null });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        url: HOOK,
        description: null,
        eventTypes: ['job.failed', 'job.succeeded'],
      });
      expect(res.body).not.toHaveProperty('secret');

      const empty = await request(api.url).patch(`/v1/webhook-endpoints/${id}`).set(auth).send({});
      expect(empty.status).toBe(400);
      const blocked = await request(api.url)
        .patch(`/v1/webhook-endpoints/${id}`)
        .set(auth)
        .send({ url: 'http://10.1.2.3/' });
      expect(blocked.status).toBe(400);
      expect(blocked.body.errors[0].path).toEqual(['body', 'url']);
    });

    it('rotates: a new secret, the old one signing on for 24 hours', async () => {
      const { id, secret } = (await create({ url: HOOK })).body;
      const res = await request(api.url)
        .post(`/v1/webhook-endpoints/${id}/rotate-secret`)
        .set(auth);
      expect(res.status).toBe(200);
      expect(res.body.secret).toMatch(WHSEC);
      expect(res.body.secret).not.toBe(secret);
      const expiresIn = Date.parse(res.body.previousSecretExpiresAt) - Date.now();
      expect(expiresIn).toBeGreaterThan(23 * 3_600_000);
      expect(expiresIn).toBeLessThanOrEqual(24 * 3_600_000);
      const endpoint = await api.db.pool.query(
        'SELECT secret, previous_secret FROM webhook_endpoints WHERE id = $1',
        [id],
      );
      expect(box.open(endpoint.rows[0]?.secret, id)).toBe(res.body.secret);
      expect(box.open(endpoint.rows[0]?.previous_secret, id)).toBe(secret);
    });

    it('deletes, and then answers 404 webhook-endpoint-not-found', async () => {
      const { id } = (await create({ url: HOOK })).body;
      expect((await request(api.url).delete(`/v1/webhook-endpoints/${id}`).set(auth)).status).toBe(
        204,
      );
      for (const res of [
        await request(api.url).get(`/v1/webhook-endpoints/${id}`).set(auth),
        await request(api.url).delete(`/v1/webhook-endpoints/${id}`).set(auth),
        await request(api.url).patch(`/v1/webhook-endpoints/${id}`).set(auth).send({ url: HOOK }),
        await request(api.url).post(`/v1/webhook-endpoints/${id}/rotate-secret`).set(auth),
      ]) {
        expect(res.status).toBe(404);
        expect(res.body).toMatchObject({
          type: `${PROBLEM_TYPE_BASE}webhook-endpoint-not-found`,
          webhookEndpointId: id,
        });
      }
      const malformed = await request(api.url).get('/v1/webhook-endpoints/42').set(auth);
      expect(malformed.status).toBe(400);
      expect(malformed.body.errors[0].path).toEqual(['params', 'id']);
    });

    it('requires the API key', async () => {
      expect((await request(api.url).get('/v1/webhook-endpoints')).status).toBe(401);
    });
  });

  describe('POST /v1/jobs with webhook.deliver', () => {
    const deliver = (payload: object) =>
      request(api.url).post('/v1/jobs').set(auth).send({ type: 'webhook.deliver', payload });

    it('takes an endpoint that exists', async () => {
      const { id } = (await create({ url: HOOK })).body;
      const res = await deliver({ endpointId: id, body: { order: 7 } });
      expect(res.status).toBe(202);
      expect(res.body.payload).toEqual({ endpointId: id, body: { order: 7 } });
    });

    it.each([
      [
        'an endpoint that does not exist',
        { endpointId: '00000000-0000-4000-8000-000000000000', body: {} },
        'endpointId',
        'there is no webhook endpoint',
      ],
      [
        'a raw url while WEBHOOK_ALLOW_RAW_URLS is off',
        { url: HOOK, body: {} },
        'url',
        'WEBHOOK_ALLOW_RAW_URLS is off',
      ],
      ['neither', { body: {} }, 'endpointId', 'either endpointId'],
    ])('refuses %s with 400 naming the field', async (_case, payload, field, message) => {
      const res = await deliver(payload);
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([
        expect.objectContaining({
          path: ['body', 'payload', field],
          message: expect.stringContaining(message),
        }),
      ]);
    });
  });

  describe('GET /v1/jobs/:id/attempts', () => {
    it("lists a job's attempts as the worker recorded them", async () => {
      const job = await request(api.url)
        .post('/v1/jobs')
        .set(auth)
        .send({ type: 'system.echo', payload: {} });
      const id = job.body.id;
      const none = await request(api.url).get(`/v1/jobs/${id}/attempts`).set(auth);
      expect(none.body).toEqual({
        jobId: id,
        attempts: [],
        links: { self: `/v1/jobs/${id}/attempts`, job: `/v1/jobs/${id}` },
      });

      const log = createJobAttemptLog(api.db, { workerId: 'worker-7' });
      await log.record({
        jobId: id,
        attempt: 1,
        startedAt: new Date('2026-12-03T10:00:00.000Z'),
        finishedAt: new Date('2026-12-03T10:00:01.500Z'),
        outcome: 'retrying',
        error: 'WebhookDeliveryError: answered 502',
        httpStatus: 502,
      });
      const res = await request(api.url).get(`/v1/jobs/${id}/attempts`).set(auth);
      expect(res.status).toBe(200);
      expect(res.body.attempts).toEqual([
        {
          attempt: 1,
          startedAt: '2026-12-03T10:00:00.000Z',
          finishedAt: '2026-12-03T10:00:01.500Z',
          durationMs: 1_500,
          outcome: 'retrying',
          error: 'WebhookDeliveryError: answered 502',
          workerId: 'worker-7',
          httpStatus: 502,
        },
      ]);
    });

    it('answers 404 for a job that does not exist', async () => {
      const res = await request(api.url)
        .get('/v1/jobs/00000000-0000-4000-8000-000000000000/attempts')
        .set(auth);
      expect(res.status).toBe(404);
      expect(res.body.type).toBe(`${PROBLEM_TYPE_BASE}job-not-found`);
    });
  });
});

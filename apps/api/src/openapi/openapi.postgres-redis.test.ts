import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobResourceSchema } from '../job-resource.ts';
import { ADMIN_QUEUES_PATH } from '../routes/admin-queues.ts';
import { API_REFERENCE_PATH } from '../routes/api-reference.ts';
import { healthReportSchema } from '../routes/health.contract.ts';
import { jobListSchema } from '../routes/jobs.contract.ts';
import { scheduleListSchema } from '../routes/schedules.contract.ts';
import { scheduleResourceSchema } from '../schedule-resource.ts';
import { type ApiUnderTest, auth, startApiUnderTest } from '../testing/api-under-test.ts';
import { mountedRoutes } from '../testing/mounted-routes.ts';
import { API_OPERATIONS, createOpenApiDocument } from './document.ts';
import { problemSchema } from './operation.ts';

describe('the OpenAPI document of a running api (real PostgreSQL and Redis)', () => {
  let api: ApiUnderTest;

  beforeAll(async () => {
    api = await startApiUnderTest('api-openapi');
  });
  afterAll(async () => {
    await api?.close();
  });

  it('is served at GET /v1/openapi.json without credentials', async () => {
    const res = await request(api.url).get('/v1/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual(JSON.parse(JSON.stringify(createOpenApiDocument())));

    const post = await request(api.url).post('/v1/openapi.json');
    expect(post.status).toBe(405);
  });

  it('has every route the app mounts, and nothing else', async () => {
    // the dashboard and the API reference are web pages for people: not part of the API
    const mounted = mountedRoutes(api.app, [ADMIN_QUEUES_PATH, API_REFERENCE_PATH]);
    const documented = API_OPERATIONS.map(
      (operation) => `${operation.method.toUpperCase()} ${operation.path}`,
    ).sort();
    expect(mounted).toEqual(documented);
  });

  it("the api's answers match the response schemas of the document", async () => {
    const created = await request(api.url)
      .post('/v1/jobs')
      .set(auth)
      .send({
        type: 'system.echo',
        payload: { data: 'contract' },
        runAt: new Date(Date.now() + 3_600_000).toISOString(),
      });
    expect(created.status).toBe(202);
    jobResourceSchema.parse(created.body);

    const read = await request(api.url).get(`/v1/jobs/${created.body.id}`).set(auth);
    jobResourceSchema.parse(read.body);

    const list = await request(api.url).get('/v1/jobs?limit=1').set(auth);
    expect(jobListSchema.parse(list.body).jobs).toHaveLength(1);

    const defined = await request(api.url)
      .post('/v1/schedules')
      .set(auth)
      .send({ key: 'contract', type: 'system.echo', payload: {}, cron: '0 * * * *' });
    expect(defined.status).toBe(201);
    scheduleResourceSchema.parse(defined.body);
    const changed = await request(api.url)
      .patch('/v1/schedules/contract')
      .set(auth)
      .send({ everySeconds: 60 });
    scheduleResourceSchema.parse(changed.body);
    const triggered = await request(api.url).post('/v1/schedules/contract/trigger').set(auth);
    expect(triggered.status).toBe(202);
    jobResourceSchema.parse(triggered.body);
    const readOnly = await request(api.url).delete('/v1/schedules/maintenance.prune').set(auth);
    expect(problemSchema.parse(readOnly.body).key).toBe('maintenance.prune');

    const schedules = await request(api.url).get('/v1/schedules').set(auth);
    expect(schedules.status).toBe(200);
    const listed = scheduleListSchema.parse(schedules.body).schedules;
    expect(listed.find((schedule) => schedule.key === 'contract')?.lastJob?.id).toBe(
      triggered.body.id,
    );

    const cancelled = await request(api.url).post(`/v1/jobs/${created.body.id}/cancel`).set(auth);
    expect(jobResourceSchema.parse(cancelled.body).status).toBe('cancelled');

    const again = await request(api.url).post(`/v1/jobs/${created.body.id}/cancel`).set(auth);
    expect(again.status).toBe(409);
    expect(problemSchema.parse(again.body).jobStatus).toBe('cancelled');

    // a running job with progress, whose cancellation is requested
    const running = await request(api.url)
      .post('/v1/jobs')
      .set(auth)
      .send({ type: 'system.echo', payload: {}, runAt: new Date(Date.now() + 3_600_000) });
    await api.jobs.markRunning(running.body.id, 1);
    await api.jobs.recordProgress(running.body.id, { percent: 12.5, message: 'contract' });
    const stopping = await request(api.url).post(`/v1/jobs/${running.body.id}/cancel`).set(auth);
    expect(stopping.status).toBe(202);
    expect(jobResourceSchema.parse(stopping.body)).toMatchObject({
      status: 'running',
      progress: { percent: 12.5, message: 'contract' },
    });

    for (const path of ['/health', '/health/live', '/health/ready']) {
      healthReportSchema.parse((await request(api.url).get(path)).body);
    }
  });
});

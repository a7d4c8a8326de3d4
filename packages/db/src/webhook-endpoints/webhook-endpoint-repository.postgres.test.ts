import { randomUUID } from 'node:crypto';
import { loadConfig } from '@repo/config';
import { createTestDatabase, type TestDatabase } from '@repo/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../create-db.ts';
import { databaseOptions, migrateEnv } from '../env.ts';
import { createJobAttemptLog, type JobAttemptLog } from '../jobs/job-attempts.ts';
import { InvalidCursorError } from '../jobs/job-errors.ts';
import { createJobEventOutbox, type JobEventOutbox } from '../jobs/job-events.ts';
import {
  createJobRepository,
  type JobRepository,
  type QueuedJobRelease,
} from '../jobs/job-repository.ts';

/** No BullMQ job holds these rows (the repository is tested alone): a queued one is cancelled. */
const noWorkerHolds: QueuedJobRelease = async () => 'released';

import { migrate } from '../migrate/migrate.ts';
import {
  createWebhookEndpointRepository,
  type WebhookEndpointRepository,
} from './webhook-endpoint-repository.ts';

let database: TestDatabase;
let db: Db;
let endpoints: WebhookEndpointRepository;
let jobs: JobRepository;
let attempts: JobAttemptLog;
let outbox: JobEventOutbox;

beforeAll(async () => {
  database = await createTestDatabase('webhook_endpoints');
  await migrate({ databaseUrl: database.url });
  db = createDb({
    ...databaseOptions(loadConfig(migrateEnv, { DATABASE_URL: database.url })),
    applicationName: 'webhook-endpoint-repository-test',
  });
  endpoints = createWebhookEndpointRepository(db);
  jobs = createJobRepository(db, { workerId: 'worker-a' });
  attempts = createJobAttemptLog(db, { workerId: 'worker-a' });
  outbox = createJobEventOutbox(db);
});
afterAll(async () => {
  await db?.disconnect();
  await database?.drop();
});
beforeEach(async () => {
  await db.pool.query('DELETE FROM webhook_endpoints; DELETE FROM job_events; DELETE FROM jobs');
});

const endpoint = (extra: Partial<Parameters<WebhookEndpointRepository['create']>[0]> = {}) =>
  endpoints.create({
    id: randomUUID(),
    url: 'https://hooks.example.com/jobs',
    sealedSecret: 'v1.sealed-one',
    ...extra,
  });

describe('webhook endpoint repository (real PostgreSQL)', () => {
  it('creates, reads, updates and deletes an endpoint', async () => {
    const created = await endpoint({ description: 'alerts', eventTypes: ['job.failed'] });
    expect(created).toMatchObject({
      url: 'https://hooks.example.com/jobs',
      description: 'alerts',
      eventTypes: ['job.failed'],
      jobTypes: [],
      secret: 'v1.sealed-one',
      previousSecret: null,
      previousSecretExpiresAt: null,
    });
    expect(await endpoints.findById(created.id)).toEqual(created);

    const updated = await endpoints.update(created.id, {
      url: 'https://hooks.example.com/v2',
      jobTypes: ['system.echo'],
    });
    expect(updated).toMatchObject({
      url: 'https://hooks.example.com/v2',
      description: 'alerts',
      eventTypes: ['job.failed'],
      jobTypes: ['system.echo'],
    });
    expect((await endpoints.update(created.id, { description: null }))?.description).toBeNull();

    expect(await endpoints.delete(created.id)).toBe(true);
    expect(await endpoints.findById(created.id)).toBeNull();
    expect(await endpoints.delete(created.id)).toBe(false);
    expect(await endpoints.update(created.id, { url: 'https://x.example' })).toBeNull();
    expect(await endpoints.findById('not-a-uuid')).toBeNull();
  });

  it('keeps the replaced secret signing for the given time after a rotation, then drops it', async () => {
    const created = await endpoint();
    const rotated = await endpoints.rotateSecret(created.id, 'v1.sealed-two', 60_000);
    expect(rotated).toMatchObject({ secret: 'v1.sealed-two', previousSecret: 'v1.sealed-one' });
    const expiresIn = (rotated?.previousSecretExpiresAt?.getTime() ?? 0) - Date.now();
    expect(expiresIn).toBeGreaterThan(0);
    expect(expiresIn).toBeLessThanOrEqual(60_000);

    // expired: the row still holds it, but it is no longer returned
    await db.pool.query(
      `UPDATE webhook_endpoints SET previous_secret_expires_at = now() - interval '1 second'`,
    );
    expect(await endpoints.findById(created.id)).toMatchObject({
      secret: 'v1.sealed-two',
      previousSecret: null,
      previousSecretExpiresAt: null,
    });
  });

  it('lists newest first, a page at a time', async () => {
    const created = [];
    for (let i = 0; i < 5; i += 1) created.push(await endpoint({ description: `e${i}` }));
    // one creation a second apart each: rows made within the same millisecond would be ordered by
    // their random ids, which is the keyset's tie-break but not the order they were made in
    await db.pool.query(
      `UPDATE webhook_endpoints
          SET created_at = now() - make_interval(secs => 10 - substr(description, 2)::int)
        WHERE description ~ '^e[0-4]$'`,
    );
    const first = await endpoints.list({ limit: 2 });
    const second = await endpoints.list({ limit: 2, cursor: first.nextCursor ?? undefined });
    const third = await endpoints.list({ limit: 2, cursor: second.nextCursor ?? undefined });
    expect(
      [...first.endpoints, ...second.endpoints, ...third.endpoints].map((e) => e.description),
    ).toEqual(['e4', 'e3', 'e2', 'e1', 'e0']);
    expect(third.nextCursor).toBeNull();
    await expect(endpoints.list({ limit: 2, cursor: 'nonsense' })).rejects.toThrow(
      InvalidCursorError,
    );
  });
});

describe('the job event outbox (a trigger on jobs)', () => {
  async function finishedJob(type: string, outcome: 'succeeded' | 'failed') {
    const { job } = await jobs.create({ type, payload: {}, maxAttempts: 1 });
    await jobs.markRunning(job.id, 1, 1);
    if (outcome === 'succeeded') await jobs.markSucceeded(job.id, null);
    else await jobs.markFailed(job.id, { error: 'boom', final: true });
    return job.id;
  }

  it('records nothing while no endpoint subscribes', async () => {
    await endpoint();
    await finishedJob('system.echo', 'failed');
    expect(await outbox.next(10)).toEqual([]);
  });

  it('records a final status an endpoint subscribes to, for the job types it names', async () => {
    await endpoint({ eventTypes: ['job.failed', 'job.cancelled'], jobTypes: ['system.echo'] });
    const failed = await finishedJob('system.echo', 'failed');
    await finishedJob('system.echo', 'succeeded');
    await finishedJob('maintenance.prune', 'failed');
    // a failure that will be retried is not final
    const { job: retried } = await jobs.create({
      type: 'system.echo',
      payload: {},
      maxAttempts: 2,
    });
    await jobs.markRunning(retried.id, 1, 2);
    await jobs.markFailed(retried.id, { error: 'again', final: false });
    const { job: cancelled } = await jobs.create({
      type: 'system.echo',
      payload: {},
      maxAttempts: 1,
    });
    await jobs.cancel(cancelled.id, noWorkerHolds);

    const events = await outbox.next(10);
    expect(events.map(({ jobId, type }) => ({ jobId, type }))).toEqual([
      { jobId: failed, type: 'job.failed' },
      { jobId: cancelled.id, type: 'job.cancelled' },
    ]);
    await outbox.remove(events.map((event) => event.id));
    expect(await outbox.next(10)).toEqual([]);
  });

  it('never records an event of a webhook delivery, so a failing receiver cannot feed itself', async () => {
    await endpoint({ eventTypes: ['job.failed', 'job.succeeded'] });
    await finishedJob('webhook.deliver', 'failed');
    await finishedJob('webhook.deliver', 'succeeded');
    const echo = await finishedJob('system.echo', 'succeeded');
    expect((await outbox.next(10)).map((event) => event.jobId)).toEqual([echo]);
  });
});

describe('job attempts', () => {
  it('records each attempt with its worker and duration, and lists them in order', async () => {
    const { job } = await jobs.create({ type: 'webhook.deliver', payload: {}, maxAttempts: 3 });
    const at = (ms: number) => new Date(Date.parse('2026-12-03T10:00:00.000Z') + ms);
    await Promise.all([
      attempts.record({
        jobId: job.id,
        attempt: 1,
        startedAt: at(0),
        finishedAt: at(1_250),
        outcome: 'retrying',
        error: 'WebhookDeliveryError: answered 503\u0000',
        httpStatus: 503,
      }),
      attempts.record({
        jobId: job.id,
        attempt: 2,
        startedAt: at(5_000),
        finishedAt: at(5_040),
        outcome: 'succeeded',
        httpStatus: 204,
      }),
    ]);
    expect(await attempts.listForJob(job.id)).toEqual([
      {
        attempt: 1,
        startedAt: at(0),
        finishedAt: at(1_250),
        outcome: 'retrying',
        error: 'WebhookDeliveryError: answered 503\uFFFD',
        workerId: 'worker-a',
        httpStatus: 503,
        durationMs: 1_250,
      },
      {
        attempt: 2,
        startedAt: at(5_000),
        finishedAt: at(5_040),
        outcome: 'succeeded',
        error: null,
        workerId: 'worker-a',
        httpStatus: 204,
        durationMs: 40,
      },
    ]);
    expect(await attempts.listForJob(randomUUID())).toEqual([]);
  });

  it('are pruned with their job', async () => {
    const { job } = await jobs.create({ type: 'system.echo', payload: {}, maxAttempts: 1 });
    const { job: kept } = await jobs.create({ type: 'system.echo', payload: {}, maxAttempts: 1 });
    for (const id of [job.id, kept.id]) {
      await attempts.record({
        jobId: id,
        attempt: 1,
        startedAt: new Date(),
        finishedAt: new Date(),
        outcome: 'failed',
      });
    }
    await jobs.markFailed(job.id, { error: 'x', final: true });
    expect(
      await jobs.deleteFinishedBefore({ before: new Date(Date.now() + 1_000), batchSize: 10 }),
    ).toBe(1);
    expect(await attempts.listForJob(job.id)).toEqual([]);
    expect(await attempts.listForJob(kept.id)).toHaveLength(1);
  });
});

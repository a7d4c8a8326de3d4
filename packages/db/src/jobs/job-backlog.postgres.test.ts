import { loadConfig } from '@repo/config';
import { createTestDatabase, type TestDatabase } from '@repo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../create-db.ts';
import { databaseOptions, migrateEnv } from '../env.ts';
import { migrate } from '../migrate/migrate.ts';
import { withClient } from '../testing/migrations-fixture.ts';
import { createJobRepository, type JobRepository } from './job-repository.ts';

// A database of its own: backlog() reads the whole table.
describe('backlog and batch sizes (real PostgreSQL)', () => {
  let database: TestDatabase;
  let db: Db;
  let jobs: JobRepository;
  const batches: number[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('job_backlog');
    await migrate({ databaseUrl: database.url });
    db = createDb({
      ...databaseOptions(loadConfig(migrateEnv, { DATABASE_URL: database.url })),
      applicationName: 'job-backlog-test',
    });
    jobs = createJobRepository(db, { onBatch: (size) => batches.push(size) });
  });
  afterAll(async () => {
    await db?.disconnect();
    await database?.drop();
  });

  async function ageRow(id: string, assignments: string) {
    await withClient(database.url, (client) =>
      client.query(`UPDATE jobs SET ${assignments} WHERE id = $1`, [id]),
    );
  }
  const create = (runAt: Date | null = null) =>
    jobs.create({ type: 'backlog.test', payload: {}, maxAttempts: 3, runAt }).then((r) => r.job);

  it('is empty without queued or running rows', async () => {
    expect(await jobs.backlog()).toEqual({ oldestQueuedSeconds: null, oldestRunningSeconds: null });
  });

  it('reports the oldest due queued job and the running row untouched the longest', async () => {
    const waiting = await create();
    await ageRow(
      waiting.id,
      `created_at = now() - interval '600 seconds', updated_at = now() - interval '600 seconds'`,
    );
    // due in an hour: not waiting yet, however old the row
    const later = await create(new Date(Date.now() + 3_600_000));
    await ageRow(
      later.id,
      `created_at = now() - interval '7200 seconds', updated_at = now() - interval '7200 seconds'`,
    );
    // failed 30 s ago and awaiting its retry: it waits since that failure, not since its creation
    const retrying = await create();
    await jobs.markRunning(retrying.id, 1);
    await jobs.markFailed(retrying.id, { error: 'e', final: false });
    await ageRow(
      retrying.id,
      `created_at = now() - interval '5000 seconds', updated_at = now() - interval '30 seconds'`,
    );
    const running = await create();
    await jobs.markRunning(running.id, 1);
    await ageRow(running.id, `updated_at = now() - interval '900 seconds'`);
    const finished = await create();
    await jobs.markRunning(finished.id, 1);
    await jobs.markSucceeded(finished.id, null);
    await ageRow(finished.id, `updated_at = now() - interval '9999 seconds'`);

    const backlog = await jobs.backlog();
    expect(backlog.oldestQueuedSeconds).toBeGreaterThanOrEqual(600);
    expect(backlog.oldestQueuedSeconds).toBeLessThan(700);
    expect(backlog.oldestRunningSeconds).toBeGreaterThanOrEqual(900);
    expect(backlog.oldestRunningSeconds).toBeLessThan(1000);
  });

  it('reports the size of every group-commit statement', async () => {
    batches.length = 0;
    await Promise.all(Array.from({ length: 12 }, () => create()));
    expect(batches.reduce((sum, size) => sum + size, 0)).toBe(12);
    // concurrent creates share statements
    expect(batches.length).toBeLessThan(12);
  });
});

import {
  createJobAttemptLog,
  createWebhookEndpointRepository,
  DatabaseUnavailableError,
  type JobRepository,
} from '@repo/db';
import { createLogger } from '@repo/logger';
import { captureJsonLines } from '@repo/testing';
import type { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandlers } from './handlers/index.ts';
import { createJobProcessor } from './job-processor.ts';
import { createJobWorker } from './job-worker.ts';
import { createWorkerHarness, type WorkerHarness } from './testing/worker-harness.ts';

describe('a job while PostgreSQL is unavailable (real PostgreSQL and Redis)', () => {
  let h: WorkerHarness;
  let worker: Worker;
  /** How many more writes fail as if PostgreSQL were unreachable. */
  let outageWrites = 0;
  const failedWrites: string[] = [];
  const logs = captureJsonLines();
  const logLines = logs.lines;

  beforeAll(async () => {
    h = await createWorkerHarness('processor-db-outage');
    const unavailable = (what: string) => {
      failedWrites.push(what);
      outageWrites -= 1;
      return Promise.reject(
        new DatabaseUnavailableError(`The database is unavailable while trying to ${what}`),
      );
    };
    // the real repository, except that writes fail while an outage lasts
    const jobs: JobRepository = {
      ...h.jobs,
      markRunning: (id, attempt, queueAttempts) =>
        outageWrites > 0
          ? unavailable('mark a job running')
          : h.jobs.markRunning(id, attempt, queueAttempts),
      markSucceeded: (id, result) =>
        outageWrites > 0 ? unavailable('mark a job succeeded') : h.jobs.markSucceeded(id, result),
    };
    const logger = await createLogger({
      service: 'worker',
      version: 'test',
      config: { NODE_ENV: 'test', LOG_LEVEL: 'warn', LOG_FORMAT: 'json' },
      destination: logs.destination,
    });
    worker = createJobWorker({
      connection: h.redis,
      prefix: h.config.QUEUE_PREFIX,
      config: h.config,
      processor: createJobProcessor({
        jobs,
        handlers: createHandlers({
          config: h.config,
          jobs,
          queue: h.queue,
          webhookMetrics: h.metrics.webhooks,
          webhookEndpoints: createWebhookEndpointRepository(h.db),
          secretBox: undefined,
        }),
        attempts: createJobAttemptLog(h.db),
        logger,
        metrics: h.metrics,
        fair: h.fair,
        cancellation: { watch: () => ({ signal: new AbortController().signal, release() {} }) },
        events: { status() {}, progress() {} },
      }),
    });
    void worker.run();
    await worker.waitUntilReady();
  });
  afterAll(async () => {
    await worker?.close(true);
    await h?.close();
  });

  it('postpones the job without using an attempt, and runs it once the database is back', async () => {
    outageWrites = 3;
    // one attempt only: had the outage used it up, the job would have failed for good
    const job = await h.submit('system.echo', { data: 'through an outage' }, { maxAttempts: 1 });
    const row = await h.waitForRow(job.id, (r) => r.status === 'succeeded', 20_000);
    expect(failedWrites).toEqual([
      'mark a job running',
      'mark a job running',
      'mark a job running',
    ]);
    expect(row).toMatchObject({ attempts: 1, result: { data: 'through an outage' } });
    const queued = await h.queue.getJob(job.id);
    expect(queued?.attemptsMade).toBe(1);
    expect(await queued?.getState()).toBe('completed');

    // one line per postponement; only the first carries the error with its stack
    const postponed = logLines.filter(
      (line) => line.msg === 'PostgreSQL is unavailable: job postponed without using an attempt',
    );
    expect(postponed).toHaveLength(3);
    expect(postponed[0]).toMatchObject({
      level: 'warn',
      queueJobId: job.id,
      err: { type: 'DatabaseUnavailableError', stack: expect.stringContaining('\n    at ') },
    });
    for (const line of postponed.slice(1)) {
      expect(line).not.toHaveProperty('err');
      expect(line).toMatchObject({
        level: 'warn',
        queueJobId: job.id,
        reason: 'The database is unavailable while trying to mark a job running',
      });
    }
    expect(await h.registry.metrics()).toMatch(
      /jobstack_jobs_postponed_total\{type="system\.echo"\} 3/,
    );
  });

  it('runs the handler again when only recording the success failed', async () => {
    failedWrites.length = 0;
    const job = await h.submit(
      'system.echo',
      { data: 'record me', delayMs: 300 },
      {
        maxAttempts: 1,
      },
    );
    await h.waitForRow(job.id, (r) => r.status === 'running');
    outageWrites = 1;
    const row = await h.waitForRow(job.id, (r) => r.status === 'succeeded', 20_000);
    expect(failedWrites).toEqual(['mark a job succeeded']);
    expect(row).toMatchObject({ status: 'succeeded', result: { data: 'record me', delayMs: 300 } });
    expect((await h.queue.getJob(job.id))?.attemptsMade).toBe(1);
  });
});

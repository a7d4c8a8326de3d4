import { loadConfig } from '@repo/config';
import {
  createDb,
  createJobRepository,
  type Db,
  type JobRecord,
  type JobRepository,
  migrate,
  type QueuedJobRelease,
} from '@repo/db';
import { databaseOptions } from '@repo/db/env';
import {
  createFairScheduler,
  createJobQueue,
  enqueueJob,
  type FairScheduler,
  type JobPayload,
  type JobQueue,
  type JobType,
  resolveJobLimits,
} from '@repo/jobs';
import { createLogger } from '@repo/logger';
import {
  createTestDatabase,
  createTestRedisPrefix,
  READY_DEADLINE_MS,
  TEST_REDIS_URL,
  type TestDatabase,
  type TestRedisPrefix,
} from '@repo/testing';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { type WorkerConfig, workerEnv } from '../env.ts';
import { createWorkerMetrics, type WorkerMetrics } from '../metrics.ts';
import { createWorkerService, type WorkerService } from '../service.ts';

/**
 * A migrated database of its own, a Redis prefix of its own, the producing side (what the api
 * does: insert the row, enqueue), and workers started by the worker's own wiring
 * (createWorkerService).
 */
export interface WorkerHarness {
  config: WorkerConfig;
  database: TestDatabase;
  db: Db;
  jobs: JobRepository;
  queue: JobQueue;
  redis: Redis;
  /** For a worker a test wires itself; a started worker service has its own (`.registry`). */
  registry: Registry;
  metrics: WorkerMetrics;
  /** The fair-execution scheduler, with the limits JOB_LIMITS gives (the workers use their own). */
  fair: FairScheduler;
  /** Starts an in-process worker service (its health server on a free port); the harness stops it. */
  startWorker(): Promise<WorkerService>;
  /**
   * What the api asks of the queue when it cancels a queued job (POST /v1/jobs/:id/cancel): its
   * BullMQ job is taken off the queue unless a worker holds it.
   */
  release: QueuedJobRelease;
  /** Inserts the row and enqueues it, as the API does. */
  submit<T extends JobType>(
    type: T,
    payload: JobPayload<T>,
    options?: { maxAttempts?: number; concurrencyKey?: string; priority?: number; ttl?: number },
  ): Promise<JobRecord>;
  /** Polls the row until `done` holds. */
  waitForRow(id: string, done: (row: JobRecord) => boolean, timeoutMs?: number): Promise<JobRecord>;
  close(): Promise<void>;
}

/** The key the harness's workers open endpoint secrets with (base64 of 32 bytes). */
export const TEST_WEBHOOK_SECRETS_KEY = Buffer.alloc(32, 0x5a).toString('base64');

export async function createWorkerHarness(
  label: string,
  env: Record<string, string> = {},
): Promise<WorkerHarness> {
  const database = await createTestDatabase(label);
  await migrate({ databaseUrl: database.url });
  const keys: TestRedisPrefix = createTestRedisPrefix(label);
  const config = loadConfig(workerEnv, {
    NODE_ENV: 'test',
    DATABASE_URL: database.url,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: keys.prefix,
    WEBHOOK_SIGNING_SECRET: `whsec_${Buffer.from('test-signing-secret-test-signing-secret').toString('base64')}`,
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    WEBHOOK_SECRETS_KEY: TEST_WEBHOOK_SECRETS_KEY,
    WORKER_CONCURRENCY: '4',
    ...env,
  });
  const db = createDb({ ...databaseOptions(config), applicationName: `test-${label}` });
  const jobs = createJobRepository(db);
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const queue = createJobQueue(redis, keys.prefix);
  const registry = new Registry();
  const metrics = createWorkerMetrics(registry);
  const logger = await createLogger({
    service: 'worker',
    version: 'test',
    config: { NODE_ENV: 'test', LOG_LEVEL: 'silent', LOG_FORMAT: 'json' },
  });
  const services: WorkerService[] = [];
  const fair = createFairScheduler({
    queue,
    connection: redis,
    limits: resolveJobLimits(config.JOB_LIMITS),
  });

  return {
    config,
    database,
    db,
    jobs,
    queue,
    redis,
    registry,
    metrics,
    fair,
    async startWorker() {
      const service = await createWorkerService(config, logger, {
        version: 'test',
        connectionName: `test-${label}`,
        healthServer: { port: 0, host: '127.0.0.1' },
      });
      services.push(service);
      service.readiness.setLifecycle('ready');
      return service;
    },
    async release(job) {
      return (await queue.remove(job.queueJobId ?? job.id)) === 1 ? 'released' : 'held';
    },
    async submit(type, payload, options = {}) {
      const concurrencyKey = options.concurrencyKey ?? null;
      const { job } = await jobs.create({
        type,
        payload,
        maxAttempts: options.maxAttempts ?? 3,
        concurrencyKey,
        ...(options.priority === undefined ? {} : { priority: options.priority }),
        ttl: options.ttl ?? null,
      });
      await enqueueJob(queue, {
        id: job.id,
        type,
        payload,
        maxAttempts: job.maxAttempts,
        concurrencyKey,
        priority: job.priority,
        rowCount: { attemptsUsed: 0, expiresAt: job.expiresAt?.toISOString() ?? null },
      });
      return job;
    },
    async waitForRow(id, done, timeoutMs = READY_DEADLINE_MS) {
      const deadline = Date.now() + timeoutMs;
      let row: JobRecord | null = null;
      while (Date.now() < deadline) {
        row = await jobs.findById(id);
        if (row && done(row)) return row;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw new Error(`job ${id} did not reach the expected state; last: ${JSON.stringify(row)}`);
    },
    async close() {
      // force-closed: a test that ends with jobs still running does not wait for them
      await Promise.all(
        services.map((s) => s.worker.close(true).then(() => s.stop(AbortSignal.abort()))),
      );
      await queue.close();
      redis.disconnect();
      await db.disconnect();
      await keys.cleanup();
      await database.drop();
    },
  };
}

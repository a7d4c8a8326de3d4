import { QUEUE_NAME } from '@repo/jobs';
import { type Processor, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobWorkerConfig } from './env.ts';

/**
 * The BullMQ worker with every stalled-job setting chosen on purpose (see docs/environment.md):
 * a worker silent for JOB_LOCK_DURATION loses its jobs to another, and a job may be recovered
 * JOB_MAX_STALLED_COUNT times before it fails.
 */
export function createJobWorker(options: {
  connection: Redis;
  prefix: string;
  config: JobWorkerConfig;
  processor: Processor;
}): Worker {
  const { config } = options;
  return new Worker(QUEUE_NAME, options.processor, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: config.WORKER_CONCURRENCY,
    lockDuration: config.JOB_LOCK_DURATION,
    stalledInterval: config.JOB_STALLED_INTERVAL,
    maxStalledCount: config.JOB_MAX_STALLED_COUNT,
    autorun: false,
  });
}

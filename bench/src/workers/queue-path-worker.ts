// The queue path without PostgreSQL: the worker app's BullMQ worker (createJobWorker, with its
// configured lock, stalled and concurrency settings and its Redis connection) running the
// contract's payload validation and the system.echo handler — everything the app's processor
// does except the two row updates. With JOB_LIMITS set, each job also goes through the fair
// scheduler as in the app's processor: admitted before the handler, released after it.
//   REDIS_URL=… QUEUE_PREFIX=… WORKER_CONCURRENCY=… [JOB_LIMITS=…] node --conditions=development queue-path-worker.ts
import { loadConfig } from '@repo/config';
import {
  createFairScheduler,
  createJobQueue,
  createRedisConnection,
  parseJobPayload,
  resolveJobLimits,
  resolveJobType,
  splitQueuedJobData,
} from '@repo/jobs';
import { createLogger } from '@repo/logger';
import { workerEnv } from '@repo/worker/env';
import { systemEcho } from '@repo/worker/src/handlers/system-echo.ts';
import { createJobWorker } from '@repo/worker/src/job-worker.ts';
import { DelayedError, type Job } from 'bullmq';

const config = loadConfig(workerEnv, {
  ...process.env,
  // read by the schema but unused here: this process delivers no webhooks, touches no database
  DATABASE_URL: 'postgresql://unused@127.0.0.1:1/unused',
  WEBHOOK_SIGNING_SECRET: `whsec_${Buffer.from('unused-unused-unused-unused-unused-unused').toString('base64')}`,
  WEBHOOK_SECRETS_KEY: Buffer.from('unused-unused-unused-unused-unus').toString('base64'),
});
const logger = await createLogger({
  service: 'worker',
  version: 'bench',
  config: { NODE_ENV: 'production', LOG_LEVEL: 'silent', LOG_FORMAT: 'json' },
});
const connection = createRedisConnection({
  url: config.REDIS_URL.reveal(),
  family: config.REDIS_FAMILY,
  onOutage: 'wait-for-reconnect',
  connectionName: 'bench-queue-path',
});
const abort = new AbortController();
const queue = createJobQueue(connection, config.QUEUE_PREFIX);
const fair = createFairScheduler({
  queue,
  connection,
  limits: resolveJobLimits(config.JOB_LIMITS),
});
const worker = createJobWorker({
  connection,
  prefix: config.QUEUE_PREFIX,
  config,
  processor: async (job: Job, token?: string) => {
    const type = resolveJobType(job.name);
    if (type !== 'system.echo') throw new Error(`unexpected job type ${type}`);
    const { payload, concurrencyKey } = splitQueuedJobData(job.data);
    const limited = fair.isLimited(type, concurrencyKey) && token !== undefined;
    if (limited && !(await fair.admit(job, token, type, concurrencyKey))) {
      throw new DelayedError();
    }
    try {
      return await systemEcho(parseJobPayload(type, payload), {
        id: String(job.id),
        attempt: job.attemptsMade + 1,
        maxAttempts: job.opts.attempts ?? 1,
        signal: abort.signal,
        logger,
        details: {},
        // the queue path is measured without the job rows, so progress has nowhere to go
        progress: () => {},
      });
    } finally {
      if (limited) await fair.release(String(job.id), type, concurrencyKey);
    }
  },
});
void worker.run();
await worker.waitUntilReady();
process.stdout.write(`${JSON.stringify({ msg: 'ready' })}\n`);
process.on('SIGTERM', async () => {
  await worker.close();
  await queue.close();
  connection.disconnect();
  process.exit(0);
});

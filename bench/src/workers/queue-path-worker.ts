// The queue path without PostgreSQL: the worker app's BullMQ worker (createJobWorker, with its
// configured lock, stalled and concurrency settings and its Redis connection) running the
// contract's payload validation and the system.echo handler — everything the app's processor
// does except the two row updates.
//   REDIS_URL=… QUEUE_PREFIX=… WORKER_CONCURRENCY=… node --conditions=development queue-path-worker.ts
import { loadConfig } from '@repo/config';
import { createRedisConnection, parseJobPayload, resolveJobType } from '@repo/jobs';
import { createLogger } from '@repo/logger';
import { workerEnv } from '@repo/worker/env';
import { systemEcho } from '@repo/worker/src/handlers/system-echo.ts';
import { createJobWorker } from '@repo/worker/src/job-worker.ts';
import type { Job } from 'bullmq';

const config = loadConfig(workerEnv, {
  ...process.env,
  // read by the schema but unused here: this process delivers no webhooks, touches no database
  DATABASE_URL: 'postgresql://unused@127.0.0.1:1/unused',
  WEBHOOK_SIGNING_SECRET: `whsec_${Buffer.from('unused-unused-unused-unused-unused-unused').toString('base64')}`,
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
const worker = createJobWorker({
  connection,
  prefix: config.QUEUE_PREFIX,
  config,
  processor: async (job: Job) => {
    const type = resolveJobType(job.name);
    if (type !== 'system.echo') throw new Error(`unexpected job type ${type}`);
    return systemEcho(parseJobPayload(type, job.data), {
      id: String(job.id),
      attempt: job.attemptsMade + 1,
      maxAttempts: job.opts.attempts ?? 1,
      signal: abort.signal,
      logger,
    });
  },
});
void worker.run();
await worker.waitUntilReady();
process.stdout.write(`${JSON.stringify({ msg: 'ready' })}\n`);
process.on('SIGTERM', async () => {
  await worker.close();
  connection.disconnect();
  process.exit(0);
});

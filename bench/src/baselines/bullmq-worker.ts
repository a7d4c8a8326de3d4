// The jobs baseline: a BullMQ Worker with a no-op processor, nothing else.
//   REDIS_URL=… PREFIX=… QUEUE=… CONCURRENCY=… node bullmq-worker.ts
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

const connection = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
  maxRetriesPerRequest: null,
});
const worker = new Worker(process.env.QUEUE ?? 'jobs', async () => null, {
  connection,
  prefix: process.env.PREFIX ?? 'bench',
  concurrency: Number(process.env.CONCURRENCY ?? 10),
});
await worker.waitUntilReady();
process.stdout.write(`${JSON.stringify({ msg: 'ready' })}\n`);
process.on('SIGTERM', async () => {
  await worker.close();
  connection.disconnect();
  process.exit(0);
});

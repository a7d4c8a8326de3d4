// The same-architecture jobs baseline, worker side: what a team writes by hand on the stack the
// project uses. A BullMQ Worker at the given concurrency that, for each job, sets its row running
// with one pg UPDATE and succeeded with another — no batching, no validation, no metrics, no
// logging. Its api side is bare-express.ts's POST /pg/v1/jobs (one INSERT, one queue.add).
//   DATABASE_URL=… REDIS_URL=… PREFIX=… QUEUE=… CONCURRENCY=… node hand-written-worker.ts
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';

const concurrency = Number(process.env.CONCURRENCY ?? 10);
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: concurrency });
const connection = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
  maxRetriesPerRequest: null,
});
const worker = new Worker(
  process.env.QUEUE ?? 'jobs',
  async (job) => {
    await pool.query(
      `UPDATE jobs SET status = 'running', attempts = attempts + 1,
         started_at = coalesce(started_at, now()), updated_at = now() WHERE id = $1`,
      [job.id],
    );
    await pool.query(
      `UPDATE jobs SET status = 'succeeded', result = $2, finished_at = now(), updated_at = now()
        WHERE id = $1`,
      [job.id, JSON.stringify(job.data ?? null)],
    );
  },
  { connection, prefix: process.env.PREFIX ?? 'bench', concurrency },
);
await worker.waitUntilReady();
process.stdout.write(`${JSON.stringify({ msg: 'ready' })}\n`);
process.on('SIGTERM', async () => {
  await worker.close();
  connection.disconnect();
  await pool.end();
  process.exit(0);
});

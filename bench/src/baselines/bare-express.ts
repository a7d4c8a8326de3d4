// The HTTP baseline: a bare Express 5 app answering with the same JSON bodies as the api (passed
// in the environment), with none of the api's middleware, no authentication and no validation.
// With DATABASE_URL (and REDIS_URL, QUEUE_PREFIX) it also serves what a team writes by hand for
// the job routes: GET reads the row with one pg SELECT, POST writes it with one pg INSERT and
// adds it to a BullMQ queue with one `queue.add`, so the api's own cost is what lies between.
//   PORT=… LIVE_JSON='{…}' JOB_JSON='{…}' [DATABASE_URL=… REDIS_URL=… QUEUE_PREFIX=… QUEUE=…]
//   node bare-express.ts
import { Queue } from 'bullmq';
import express from 'express';
import { Redis } from 'ioredis';
import pg from 'pg';

const port = Number(process.env.PORT ?? 0);
const live = process.env.LIVE_JSON ?? '{}';
const job = process.env.JOB_JSON ?? '{}';
const pool = process.env.DATABASE_URL
  ? new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 })
  : undefined;
// the api's kind of producer connection: no offline queue, fail fast
const connection = process.env.REDIS_URL
  ? new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: 1, enableOfflineQueue: false })
  : undefined;
const queue = connection
  ? new Queue(process.env.QUEUE ?? 'jobs', {
      connection,
      prefix: process.env.QUEUE_PREFIX ?? 'bench',
    })
  : undefined;

const app = express();
// as the api does: one header fewer on every response
app.disable('x-powered-by');
// The same minimal write as the api's probe (packages/health): writeHead/end with the same
// headers, no ETag, no freshness check.
app.get('/health/live', (_req, res) => {
  res.writeHead(200, {
    'Cache-Control': 'no-store',
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(live),
  });
  res.end(live);
});
app.get('/v1/jobs/:id', (_req, res) => {
  res.type('application/json').send(job);
});
app.get('/pg/v1/jobs/:id', async (req, res) => {
  if (!pool) {
    res.status(404).end();
    return;
  }
  const { rows } = await pool.query('SELECT * FROM jobs WHERE id = $1::uuid', [req.params.id]);
  res.json(rows[0] ?? null);
});
app.post('/pg/v1/jobs', express.json(), async (req, res) => {
  if (!pool || !queue) {
    res.status(404).end();
    return;
  }
  const { type, payload } = req.body as { type: string; payload: unknown };
  const { rows } = await pool.query(
    'INSERT INTO jobs (type, payload, max_attempts) VALUES ($1, $2, 3) RETURNING *',
    [type, JSON.stringify(payload ?? null)],
  );
  const row = rows[0] as { id: string };
  await queue.add(type, payload, { jobId: row.id });
  res.status(202).json(row);
});

const server = app.listen(port, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ msg: 'listening', port })}\n`);
});
process.on('SIGTERM', () => {
  server.close(() => {
    void Promise.all([pool?.end(), queue?.close()]).then(() => {
      connection?.disconnect();
      process.exit(0);
    });
  });
  server.closeIdleConnections();
});

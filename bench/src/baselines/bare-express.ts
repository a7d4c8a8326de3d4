// The HTTP baseline: a bare Express 5 app answering with the same JSON bodies as the api (passed
// in the environment), with none of the api's middleware. Optionally a route that reads the job
// row with plain pg, to separate the database round trip from the api's own cost.
//   PORT=… LIVE_JSON='{…}' JOB_JSON='{…}' [DATABASE_URL=…] node bare-express.ts
import express from 'express';
import pg from 'pg';

const port = Number(process.env.PORT ?? 0);
const live = process.env.LIVE_JSON ?? '{}';
const job = process.env.JOB_JSON ?? '{}';
const pool = process.env.DATABASE_URL
  ? new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 })
  : undefined;

const app = express();
app.get('/health/live', (_req, res) => {
  res.type('application/json').send(live);
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

const server = app.listen(port, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ msg: 'listening', port })}\n`);
});
process.on('SIGTERM', () => {
  server.close(() => {
    void (pool ? pool.end() : Promise.resolve()).then(() => process.exit(0));
  });
  server.closeIdleConnections();
});

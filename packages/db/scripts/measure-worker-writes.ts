// Measures what the worker pays per job for its two writes (markRunning + markSucceeded):
// the repository (SQL on the pool under Prisma), the same through Prisma's query builder, and a
// separate plain pg pool as the floor — latency and this process's CPU per job; plus how long
// migrating an empty database takes.
//
//   node --conditions=development scripts/measure-worker-writes.ts [jobs=2000]
//
// Uses a throwaway database on TEST_DATABASE_URL's server (default 127.0.0.1:5432).
import { loadConfig } from '@repo/config';
import { createTestDatabase } from '@repo/testing';
import pg from 'pg';
import { databaseOptions, migrateEnv } from '../src/env.ts';
import { createDb, createJobRepository, migrate } from '../src/index.ts';

const print = (line: string) => process.stdout.write(`${line}\n`);

const jobCount = Number(process.argv[2] ?? 2_000);

// Counts what reaches PostgreSQL: every pool.query is one statement, one round trip. pool.query
// checks a connection out itself, so checkouts beyond that mean explicit transactions.
const calls = { query: 0, connect: 0 };
const { query, connect } = pg.Pool.prototype;
pg.Pool.prototype.query = function (this: pg.Pool, ...args: unknown[]) {
  calls.query += 1;
  return (query as (...a: unknown[]) => unknown).apply(this, args);
} as typeof query;
pg.Pool.prototype.connect = function (this: pg.Pool, ...args: unknown[]) {
  calls.connect += 1;
  return (connect as (...a: unknown[]) => unknown).apply(this, args);
} as typeof connect;

const database = await createTestDatabase('measure');
try {
  let started = performance.now();
  await migrate({ databaseUrl: database.url });
  const migrateMs = performance.now() - started;
  started = performance.now();
  await migrate({ databaseUrl: database.url });
  const noopMs = performance.now() - started;

  const db = createDb(databaseOptions(loadConfig(migrateEnv, { DATABASE_URL: database.url })));
  const jobs = createJobRepository(db);
  const ids: string[] = [];
  for (let i = 0; i < jobCount * 3; i += 1) {
    ids.push((await jobs.create({ type: 'bench', payload: { i }, maxAttempts: 3 })).job.id);
  }
  const batches = [
    ids.slice(0, jobCount),
    ids.slice(jobCount, 2 * jobCount),
    ids.slice(2 * jobCount),
  ];

  const variants: [string, string[], (id: string) => Promise<unknown>][] = [
    [
      'repository (SQL on the shared pg pool)',
      batches[0] ?? [],
      async (id) => {
        await jobs.markRunning(id, 1);
        await jobs.markSucceeded(id, { ok: true });
      },
    ],
    [
      'Prisma query builder (updateManyAndReturn)',
      batches[1] ?? [],
      async (id) => {
        await db.prisma.job.updateManyAndReturn({
          where: { id, status: { in: ['queued', 'running'] } },
          data: { status: 'running', attempts: 1, startedAt: new Date() },
        });
        await db.prisma.job.updateManyAndReturn({
          where: { id, status: 'running' },
          data: { status: 'succeeded', result: { ok: true }, error: null, finishedAt: new Date() },
        });
      },
    ],
  ];
  const pool = new pg.Pool({ connectionString: database.url, max: 1 });
  variants.push([
    'plain pg (floor)',
    batches[2] ?? [],
    async (id) => {
      await pool.query(
        `UPDATE jobs SET status = 'running', attempts = $2, started_at = COALESCE(started_at, now()),
                updated_at = now() WHERE id = $1 AND status IN ('queued', 'running') RETURNING *`,
        [id, 1],
      );
      await pool.query(
        `UPDATE jobs SET status = 'succeeded', result = $2::jsonb, error = NULL, finished_at = now(),
                updated_at = now() WHERE id = $1 AND status = 'running' RETURNING *`,
        [id, '{"ok":true}'],
      );
    },
  ]);

  print(
    `migrate, empty database: ${migrateMs.toFixed(1)} ms; up-to-date re-run: ${noopMs.toFixed(1)} ms`,
  );
  print(`markRunning + markSucceeded, ${jobCount} jobs one after another:`);
  for (const [name, batch, run] of variants) {
    for (const id of batch.slice(0, 50)) await run(id); // warm-up: prepared plans, JIT
    const before = { ...calls };
    const samples: number[] = [];
    const cpuBefore = process.cpuUsage();
    for (const id of batch.slice(50)) {
      const t = performance.now();
      await run(id);
      samples.push(performance.now() - t);
    }
    const cpu = process.cpuUsage(cpuBefore);
    const cpuPerJobUs = (cpu.user + cpu.system) / samples.length;
    samples.sort((a, b) => a - b);
    const at = (q: number) =>
      samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? 0;
    const mean = samples.reduce((sum, s) => sum + s, 0) / samples.length;
    const perJob = (n: number) => (n / samples.length).toFixed(2);
    print(
      `  ${name.padEnd(44)} mean ${mean.toFixed(3)} ms  p50 ${at(0.5).toFixed(3)}  p99 ${at(0.99).toFixed(3)}  ` +
        `CPU ${cpuPerJobUs.toFixed(0)} µs/job  ` +
        `(statements/job ${perJob(calls.query - before.query)}, transactions/job ${perJob(calls.connect - before.connect - (calls.query - before.query))})`,
    );
  }
  await pool.end();
  await db.disconnect();
} finally {
  await database.drop();
}

// What the worker's row writes cost PostgreSQL per job under different table layouts: the backend's
// CPU time, the WAL written, and how many updates were HOT (heap-only: no index entry written).
// Each variant has a database of its own, migrated, with the same rows; the variants take turns,
// round after round, running the worker's batched transitions (running, then succeeded, for ten
// jobs per statement, as packages/db sends them under load).
//   node --conditions=development bench/src/job-writes.ts [jobs per round=2000] [rounds=5]
import { migrate } from '@repo/db';
import { cpuTimeMs, createTestDatabase, type TestDatabase } from '@repo/testing';
import pg from 'pg';
import { median } from './lib/stats.ts';

const print = (line: string) => process.stdout.write(`${line}\n`);
const jobsPerRound = Number(process.argv[2] ?? 2_000);
const rounds = Number(process.argv[3] ?? 5);
const BATCH = 10;

// The worker's statement (packages/db job repository), both transitions in one shape.
const TRANSITION = `
  UPDATE jobs
     SET status = item.next_status::job_status,
         attempts = CASE WHEN item.next_status = 'running' THEN attempts + 1 ELSE attempts END,
         started_at = CASE WHEN item.next_status = 'running'
                           THEN COALESCE(started_at, now()) ELSE started_at END,
         result = CASE WHEN item.next_status = 'succeeded' THEN '{}'::jsonb ELSE result END,
         finished_at = CASE WHEN item.next_status = 'succeeded' THEN now() ELSE finished_at END,
         updated_at = now()
    FROM unnest($1::uuid[], $2::text[]) AS item(job_id, next_status)
   WHERE jobs.id = item.job_id`;

// One write per job: what skipping `running` for a job that finishes quickly would send.
const SUCCEED_DIRECTLY = `
  UPDATE jobs
     SET status = 'succeeded', attempts = attempts + 1, started_at = now(), result = '{}'::jsonb,
         finished_at = now(), updated_at = now()
    FROM unnest($1::uuid[]) AS item(job_id)
   WHERE jobs.id = item.job_id`;

interface Variant {
  name: string;
  /** Applied once after the migrations. */
  setup: string[];
  /** Two writes per job (running, succeeded), or one. */
  writesPerJob: 1 | 2;
}

// Every index whose key or predicate holds a column each transition changes (status, updated_at,
// finished_at) rules out HOT updates.
const STATUS_DEPENDENT_INDEXES = `
  DO $$ DECLARE i record; BEGIN
    FOR i IN SELECT indexname FROM pg_indexes
              WHERE tablename = 'jobs' AND indexname <> 'jobs_pkey'
                AND (indexdef ~ 'status' OR indexdef ~ 'updated_at' OR indexdef ~ 'finished_at')
    LOOP EXECUTE format('DROP INDEX %I', i.indexname); END LOOP;
  END $$`;

const variants: Variant[] = [
  { name: 'as migrated (fillfactor 100, 7 indexes)', setup: [], writesPerJob: 2 },
  { name: 'fillfactor 70', setup: ['ALTER TABLE jobs SET (fillfactor = 70)'], writesPerJob: 2 },
  {
    name: 'fillfactor 70, no index on status/updated_at/finished_at',
    setup: ['ALTER TABLE jobs SET (fillfactor = 70)', STATUS_DEPENDENT_INDEXES],
    writesPerJob: 2,
  },
  { name: 'one write per job (running skipped)', setup: [], writesPerJob: 1 },
];

interface Round {
  cpuUsPerJob: number;
  walBytesPerJob: number;
}

const databases: TestDatabase[] = [];
const clients: pg.Client[] = [];
try {
  const state = [];
  for (const variant of variants) {
    const database = await createTestDatabase('job_writes');
    databases.push(database);
    await migrate({ databaseUrl: database.url });
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    clients.push(client);
    for (const statement of variant.setup) await client.query(statement);
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    state.push({ variant, client, pid: rows[0]?.pid as number, results: [] as Round[] });
  }
  for (let round = 1; round <= rounds; round += 1) {
    for (const s of state) {
      const { rows } = await s.client.query<{ id: string }>(
        `INSERT INTO jobs (type, payload, max_attempts)
         SELECT 'system.echo', '{}'::jsonb, 3 FROM generate_series(1, $1::int) RETURNING id`,
        [jobsPerRound],
      );
      const ids = rows.map((row) => row.id);
      await s.client.query('VACUUM (ANALYZE) jobs');
      const walBefore = await walLsn(s.client);
      const cpuBefore = cpuTimeMs(s.pid) ?? Number.NaN;
      for (let i = 0; i < ids.length; i += BATCH) {
        const batch = ids.slice(i, i + BATCH);
        if (s.variant.writesPerJob === 2) {
          await s.client.query(TRANSITION, [batch, batch.map(() => 'running')]);
          await s.client.query(TRANSITION, [batch, batch.map(() => 'succeeded')]);
        } else {
          await s.client.query(SUCCEED_DIRECTLY, [batch]);
        }
      }
      const cpuAfter = cpuTimeMs(s.pid) ?? Number.NaN;
      const walAfter = await walLsn(s.client);
      s.results.push({
        cpuUsPerJob: ((cpuAfter - cpuBefore) * 1000) / ids.length,
        walBytesPerJob: Number(walAfter - walBefore) / ids.length,
      });
      print(
        `round ${round}, ${s.variant.name}: ${(((cpuAfter - cpuBefore) * 1000) / ids.length).toFixed(0)} µs CPU, ${(Number(walAfter - walBefore) / ids.length).toFixed(0)} B WAL per job`,
      );
    }
  }
  print('');
  for (const s of state) {
    await s.client.query('SELECT pg_stat_force_next_flush()');
    const { rows } = await s.client.query<{ upd: string; hot: string }>(
      `SELECT n_tup_upd AS upd, n_tup_hot_upd AS hot FROM pg_stat_user_tables WHERE relname = 'jobs'`,
    );
    const upd = Number(rows[0]?.upd ?? 0);
    const hot = Number(rows[0]?.hot ?? 0);
    print(
      `${s.variant.name}: backend CPU ${median(s.results.map((r) => r.cpuUsPerJob)).toFixed(0)} µs/job, WAL ${median(s.results.map((r) => r.walBytesPerJob)).toFixed(0)} B/job, HOT ${upd === 0 ? 0 : ((100 * hot) / upd).toFixed(0)}% of ${upd} updates (medians of ${rounds} rounds of ${jobsPerRound} jobs)`,
    );
  }
} finally {
  for (const client of clients) await client.end();
  for (const database of databases) await database.drop();
}

async function walLsn(client: pg.Client): Promise<bigint> {
  const { rows } = await client.query<{ bytes: string }>(
    "SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn AS bytes",
  );
  return BigInt(rows[0]?.bytes ?? '0');
}

// What the worker's row writes cost PostgreSQL per job: the backend's CPU time, the WAL written,
// and how many updates were HOT (heap-only: no index entry written). Each variant has a database
// of its own, migrated, with the same rows; the variants take turns, round after round, sending
// the worker's writes through packages/db's own job repository and attempt log (group commit
// included) for ten jobs at a time, as a worker at concurrency 10 does: every job marked running,
// then its attempt and its success recorded; or, as the worker runs a job shorter than
// JOB_RUNNING_STATUS_DELAY, no `running` write and one success that records the start too.
//   node --conditions=development bench/src/job-writes.ts [jobs per round=2000] [rounds=5]
import { createJobAttemptLog, createJobRepository, migrate } from '@repo/db';
import { cpuTimeMs, createTestDatabase, type TestDatabase } from '@repo/testing';
import pg from 'pg';
import { median } from './lib/stats.ts';

const print = (line: string) => process.stdout.write(`${line}\n`);
const jobsPerRound = Number(process.argv[2] ?? 2_000);
const rounds = Number(process.argv[3] ?? 5);
const BATCH = 10;

/** How a succeeded attempt reaches its history (job_attempts). */
type History = 'with the status' | 'a statement of its own' | 'none';

interface Variant {
  name: string;
  /** Applied once after the migrations. */
  setup: string[];
  history: History;
  /** The success records the start, `running` is not written (a job shorter than the delay). */
  deferredStart?: boolean;
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
  {
    name: 'as the worker writes a short job (no running; the success records the start)',
    setup: [],
    history: 'with the status',
    deferredStart: true,
  },
  { name: 'running first (history with the status)', setup: [], history: 'with the status' },
  { name: 'history as an INSERT of its own', setup: [], history: 'a statement of its own' },
  { name: 'no history', setup: [], history: 'none' },
  {
    name: 'outbox trigger disabled',
    setup: ['ALTER TABLE jobs DISABLE TRIGGER jobs_record_event'],
    history: 'with the status',
  },
  {
    name: 'no index on status/updated_at/finished_at (HOT)',
    setup: [STATUS_DEPENDENT_INDEXES],
    history: 'with the status',
  },
];

interface Round {
  cpuUsPerJob: number;
  walBytesPerJob: number;
}

const databases: TestDatabase[] = [];
const pools: pg.Pool[] = [];
try {
  const state = [];
  for (const variant of variants) {
    const database = await createTestDatabase('job_writes');
    databases.push(database);
    await migrate({ databaseUrl: database.url });
    // one connection, so that one backend's CPU time is all the writes cost
    const client = new pg.Pool({ connectionString: database.url, max: 1, idleTimeoutMillis: 0 });
    pools.push(client);
    for (const statement of variant.setup) await client.query(statement);
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const jobs = createJobRepository({ pool: client }, { workerId: 'bench' });
    const attempts = createJobAttemptLog({ pool: client }, { workerId: 'bench' });
    state.push({
      variant,
      client,
      jobs,
      attempts,
      pid: rows[0]?.pid as number,
      results: [] as Round[],
    });
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
        if (!s.variant.deferredStart) {
          await Promise.all(batch.map((id) => s.jobs.markRunning(id, 1, 3)));
        }
        const startedAt = new Date();
        const attempt = {
          attempt: 1,
          startedAt,
          finishedAt: new Date(),
          onNotRecorded: (error: unknown) => {
            throw error;
          },
        };
        if (s.variant.history === 'a statement of its own') {
          await Promise.all(
            batch.map((jobId) => s.attempts.record({ jobId, ...attempt, outcome: 'succeeded' })),
          );
        }
        const written = await Promise.all(
          batch.map((id) =>
            s.jobs.markSucceeded(
              id,
              { ok: true },
              s.variant.history === 'with the status'
                ? { ...attempt, recordsStart: s.variant.deferredStart === true }
                : undefined,
            ),
          ),
        );
        if (written.includes(false)) throw new Error(`${s.variant.name}: a job did not succeed`);
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
  for (const pool of pools) await pool.end();
  for (const database of databases) await database.drop();
}

async function walLsn(client: pg.Pool): Promise<bigint> {
  const { rows } = await client.query<{ bytes: string }>(
    "SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn AS bytes",
  );
  return BigInt(rows[0]?.bytes ?? '0');
}

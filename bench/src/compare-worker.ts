// Before/after for a change to the worker: runs two builds of it side by side, each on a database
// and a queue prefix of its own, alternating rounds, and prints the worker process's CPU per job
// (from /proc) and jobs/s for the "worker + pg" path of `pnpm bench jobs`: rows already in
// PostgreSQL, system.echo jobs enqueued with the contract's createJobEnqueuer as the api enqueues
// them (the row's count in the data, so short jobs write no `running`), one worker process
// at concurrency 10, done when every row says succeeded. Also the CPU per job of the PostgreSQL
// backends serving each worker (by its database), and the rows per group-commit statement.
//   node --conditions=development src/compare-worker.ts <before/main.js> <after/main.js> [jobs] [rounds]
// e.g. a git worktree of the base commit, built, against this checkout's build:
//   … compare-worker.ts ../base/apps/worker/dist/main.js ../apps/worker/dist/main.js 5000 5
// Each build runs with `--import <its dist>/tracing.js`, as production starts it. With
// CPU_PROF_DIR set, both run under `node --cpu-prof` and write their profiles to
// <CPU_PROF_DIR>/before and …/after when they stop (summarise one with `profile`).
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createJobEnqueuer, QUEUE_NAME } from '@repo/jobs';
import { cpuTimeMs, freePort, type ServiceProcess, startServiceProcess } from '@repo/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { waitForStatus } from './lib/http-probe.ts';
import { paths } from './lib/paths.ts';
import {
  BENCH_SECRETS_KEY,
  BENCH_SIGNING_SECRET,
  type BenchData,
  createBenchData,
  TEST_REDIS_URL,
} from './lib/stack.ts';
import { median } from './lib/stats.ts';

const print = (line: string) => process.stdout.write(`${line}\n`);
const [before, after, jobsArg = '5000', roundsArg = '5'] = process.argv.slice(2);
if (!before || !after) {
  console.error('usage: compare-worker <before/main.js> <after/main.js> [jobs] [rounds]');
  process.exit(2);
}
const jobs = Number(jobsArg);
const rounds = Number(roundsArg);
const WARM_UP_JOBS = 2_000;
const CONCURRENCY = 10;
const profileDir = process.env.CPU_PROF_DIR;

interface Build {
  name: string;
  entry: string;
  data: BenchData;
  pool: pg.Pool;
  worker: ServiceProcess;
  metricsUrl: string;
  queue: Queue;
  connection: Redis;
  enqueue: ReturnType<typeof createJobEnqueuer>;
  samples: {
    jobsPerSecond: number;
    cpuUsPerJob: number;
    postgresUsPerJob: number;
    rowsPerStatement: number;
  }[];
}

const builds: Build[] = [];
/** The application_name of this script's own connections, whose backends are not counted. */
const BENCH_CONNECTION = 'compare-worker';

/** CPU time so far of each backend serving the build's worker (its database, not this script). */
async function workerBackends(build: Build): Promise<Map<number, number>> {
  const { rows } = await build.pool.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name <> $1',
    [BENCH_CONNECTION],
  );
  const times = new Map<number, number>();
  for (const { pid } of rows) {
    const ms = cpuTimeMs(pid);
    if (ms !== null) times.set(pid, ms);
  }
  return times;
}
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function start(name: string, entry: string): Promise<Build> {
  const data = await createBenchData(`cmpw_${name}_${randomUUID().slice(0, 8)}`);
  const port = await freePort();
  const profiling = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, name)}`] : [];
  const worker = startServiceProcess(
    entry,
    {
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      DATABASE_URL: data.database.url,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: data.keys.prefix,
      WEBHOOK_SECRETS_KEY: BENCH_SECRETS_KEY,
      WEBHOOK_SIGNING_SECRET: BENCH_SIGNING_SECRET,
      HEALTH_HOST: '127.0.0.1',
      HEALTH_PORT: String(port),
      WORKER_CONCURRENCY: String(CONCURRENCY),
    },
    {
      nodeArgs: [...profiling, '--import', join(dirname(entry), 'tracing.js')],
      cwd: paths.root,
    },
  );
  await waitForStatus(`http://127.0.0.1:${port}/health/ready`, { intervalMs: 20 });
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  const queue = new Queue(QUEUE_NAME, { connection, prefix: data.keys.prefix });
  const pool = new pg.Pool({
    connectionString: data.database.url,
    max: 2,
    application_name: BENCH_CONNECTION,
  });
  return {
    name,
    entry,
    data,
    pool,
    worker,
    metricsUrl: `http://127.0.0.1:${port}/metrics`,
    queue,
    connection,
    enqueue: createJobEnqueuer(queue),
    samples: [],
  };
}

async function succeeded(build: Build): Promise<number> {
  const { rows } = await build.pool.query<{ n: string }>(
    "SELECT count(*) AS n FROM jobs WHERE status = 'succeeded'",
  );
  return Number(rows[0]?.n ?? 0);
}

/** The worker's group-commit statements so far, and the rows they carried (its /metrics). */
async function statements(build: Build): Promise<{ count: number; rows: number }> {
  const text = await (await fetch(build.metricsUrl)).text();
  const value = (name: string) =>
    Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return {
    count: value('jobstack_db_batch_size_count'),
    rows: value('jobstack_db_batch_size_sum'),
  };
}

/** Rows first (not timed), then `count` jobs enqueued 1,000 at a time until every row succeeded. */
async function run(build: Build, count: number) {
  const { rows } = await build.pool.query<{ id: string }>(
    `INSERT INTO jobs (type, payload, max_attempts)
     SELECT 'system.echo', '{}'::jsonb, 3 FROM generate_series(1, $1::int) RETURNING id`,
    [count],
  );
  const pid = build.worker.child.pid;
  const statementsBefore = await statements(build);
  const backendsBefore = await workerBackends(build);
  const cpuBefore = cpuTimeMs(pid) ?? Number.NaN;
  const started = Date.now();
  for (let i = 0; i < rows.length; i += 1_000) {
    await Promise.all(
      rows
        .slice(i, i + 1_000)
        // as the api enqueues a new row (jobs.ts's worker + pg): all its attempts, and the count
        // the worker starts from
        .map((row) =>
          build.enqueue({
            id: row.id,
            type: 'system.echo',
            payload: {},
            maxAttempts: 3,
            rowCount: { attemptsUsed: 0, expiresAt: null },
          }),
        ),
    );
  }
  const deadline = performance.now() + 10 * 60_000;
  while ((await succeeded(build)) < count) {
    if (performance.now() > deadline) throw new Error(`${build.name}: jobs not done in 10 min`);
    await sleep(50);
  }
  const cpuMs = (cpuTimeMs(pid) ?? Number.NaN) - cpuBefore;
  const statementsAfter = await statements(build);
  // a backend that started during the run counts from zero; one that ended during it is missed
  let postgresMs = 0;
  for (const [pid, ms] of await workerBackends(build))
    postgresMs += ms - (backendsBefore.get(pid) ?? 0);
  const { rows: last } = await build.pool.query<{ last: Date }>(
    "SELECT max(finished_at) AS last FROM jobs WHERE status = 'succeeded'",
  );
  await build.pool.query('TRUNCATE jobs');
  await build.queue.obliterate({ force: true });
  return {
    jobsPerSecond: (count * 1000) / ((last[0]?.last.getTime() ?? Number.NaN) - started),
    cpuUsPerJob: (cpuMs * 1000) / count,
    postgresUsPerJob: (postgresMs * 1000) / count,
    rowsPerStatement:
      (statementsAfter.rows - statementsBefore.rows) /
      (statementsAfter.count - statementsBefore.count),
  };
}

try {
  builds.push(await start('before', resolve(before)));
  builds.push(await start('after', resolve(after)));
  for (const build of builds) await run(build, WARM_UP_JOBS);
  const load: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    // the builds swap places every round, so neither always runs right after the other
    for (const build of round % 2 === 0 ? builds : [...builds].reverse()) {
      load.push(loadavg()[0] ?? Number.NaN);
      const sample = await run(build, jobs);
      build.samples.push(sample);
      print(
        `  round ${round + 1} ${build.name}: ${Math.round(sample.jobsPerSecond)} jobs/s, ${Math.round(sample.cpuUsPerJob)} µs worker CPU/job, ${Math.round(sample.postgresUsPerJob)} µs its PostgreSQL backends', ${sample.rowsPerStatement.toFixed(1)} rows per statement`,
      );
    }
  }
  for (const build of builds) {
    const cpu = build.samples.map((sample) => sample.cpuUsPerJob);
    const postgres = build.samples.map((sample) => sample.postgresUsPerJob);
    const rate = build.samples.map((sample) => sample.jobsPerSecond);
    print(
      `${build.name.padEnd(7)} median ${Math.round(median(cpu))} µs worker CPU/job, ${Math.round(median(postgres))} µs PostgreSQL, ${Math.round(median(rate))} jobs/s (CPU per round: ${cpu.map((us) => Math.round(us)).join(', ')})`,
    );
  }
  print(
    `load average (1 min) during the rounds: ${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)}`,
  );
} finally {
  for (const build of builds) {
    await build.queue.close();
    build.connection.disconnect();
    await build.pool.end();
    await build.worker.stop();
    await build.data.drop();
  }
}

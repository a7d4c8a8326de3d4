// Jobs: how many jobs per second complete, and how long one takes from enqueue to completion,
// for bare BullMQ (addBulk + a no-op Worker) and for the project's paths on the same Redis, with
// the same worker concurrency:
//   queue path   the contract's enqueueJob → the worker app's BullMQ worker (createJobWorker)
//                running the contract's validation and the system.echo handler, no PostgreSQL
//   worker + pg  rows already in PostgreSQL, enqueueJob → the worker app (dist) → succeeded
//   end to end   POST /v1/jobs to the api (dist) → the worker app (dist) → succeeded in PostgreSQL
import { randomUUID } from 'node:crypto';
import { enqueueJob, type JobQueue, QUEUE_NAME } from '@repo/jobs';
import { createTestRedisPrefix, type ServiceProcess, type TestRedisPrefix } from '@repo/testing';
import autocannon from 'autocannon';
import { type Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { waitForStatus } from '../lib/http-probe.ts';
import { paths } from '../lib/paths.ts';
import { type Figure, figure } from '../lib/result.ts';
import {
  BENCH_API_KEY,
  type BenchData,
  createBenchData,
  type RunningApp,
  startApp,
  startScript,
  TEST_REDIS_URL,
} from '../lib/stack.ts';
import { percentile } from '../lib/stats.ts';
import type { BenchContext, BenchOutput } from './types.ts';

interface Settings {
  jobs: number;
  concurrency: number;
  paceRate: number;
  paceSeconds: number;
  httpConnections: number;
}

interface VariantResult {
  name: string;
  jobsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyJobs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `count` until it reaches `n`; resolves with performance.now() at that moment. */
async function waitForCount(
  what: string,
  count: () => Promise<number>,
  n: number,
  timeoutMs = 10 * 60_000,
): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  let last = 0;
  while (performance.now() < deadline) {
    last = await count();
    if (last >= n) return performance.now();
    await sleep(10);
  }
  throw new Error(`${what}: ${last} of ${n} done after ${timeoutMs} ms`);
}

/** Calls `submit` `rate` times a second for `seconds`, on a drift-free schedule. */
async function paced(rate: number, seconds: number, submit: () => Promise<unknown>) {
  const total = Math.round(rate * seconds);
  const started = performance.now();
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < total; i += 1) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    pending.push(submit());
  }
  await Promise.all(pending);
  return total;
}

/** Enqueue-to-finish times of completed BullMQ jobs, from the job records (ms). */
async function bullLatencies(queue: Queue, ids?: ReadonlySet<string>): Promise<number[]> {
  const jobs: Job[] = await queue.getJobs(['completed'], 0, -1);
  return jobs
    .filter((job) => ids === undefined || ids.has(String(job.id)))
    .map((job) => (job.finishedOn ?? Number.NaN) - job.timestamp)
    .filter((ms) => Number.isFinite(ms));
}

async function completedCount(queue: Queue): Promise<number> {
  return queue.getCompletedCount();
}

function producer(prefix: string, name = QUEUE_NAME) {
  // the api's kind of connection: no offline queue, fail fast
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  const queue = new Queue(name, { connection, prefix });
  return {
    queue,
    async close() {
      await queue.close();
      connection.disconnect();
    },
  };
}

async function waitForReadyLine(child: ServiceProcess) {
  await child.waitForLog((line) => line.msg === 'ready', 30_000);
}

export async function jobsBench(context: BenchContext): Promise<BenchOutput> {
  const settings: Settings = {
    jobs: context.quick ? 1_000 : 5_000,
    concurrency: 10,
    paceRate: 100,
    paceSeconds: context.quick ? 2 : 5,
    httpConnections: 32,
  };
  const results: VariantResult[] = [];
  const data = await createBenchData('jobs');
  const prefixes: TestRedisPrefix[] = [];
  const newPrefix = (label: string) => {
    const keys = createTestRedisPrefix(`bench-${label}`);
    prefixes.push(keys);
    return keys.prefix;
  };
  const pool = new pg.Pool({ connectionString: data.database.url, max: 2 });
  const succeededRows = async () =>
    Number(
      (await pool.query<{ n: string }>("SELECT count(*) AS n FROM jobs WHERE status = 'succeeded'"))
        .rows[0]?.n ?? 0,
    );
  try {
    results.push(await bareBullmq(context, settings, newPrefix('bare')));
    results.push(await queuePath(context, settings, newPrefix('queue-path')));
    results.push(
      await workerWithPostgres(
        context,
        settings,
        data,
        newPrefix('worker-pg'),
        pool,
        succeededRows,
      ),
    );
    results.push(await endToEnd(context, settings, data, pool, succeededRows));
  } finally {
    await pool.end();
    for (const keys of prefixes) await keys.cleanup();
    await data.drop();
  }

  const [bare, ...others] = results;
  if (!bare) throw new Error('no baseline result');
  const targets: Record<string, number> = { 'queue path': 0.7, 'end to end': 0.3 };
  const figures: Figure[] = [];
  for (const variant of others) {
    const target = targets[variant.name];
    figures.push(
      figure({
        subject: variant.name,
        metric: 'throughput',
        unit: 'jobs/s',
        value: variant.jobsPerSecond,
        baseline: { name: 'bare BullMQ', value: bare.jobsPerSecond },
        target: target === undefined ? undefined : { of: 'ratio', op: '>=', value: target },
      }),
      figure({
        subject: variant.name,
        metric: `latency p50 at ${settings.paceRate}/s`,
        unit: 'ms',
        value: variant.latencyP50Ms,
        baseline: { name: 'bare BullMQ', value: bare.latencyP50Ms },
      }),
      figure({
        subject: variant.name,
        metric: `latency p99 at ${settings.paceRate}/s`,
        unit: 'ms',
        value: variant.latencyP99Ms,
        baseline: { name: 'bare BullMQ', value: bare.latencyP99Ms },
      }),
    );
  }
  return {
    settings: { ...settings },
    figures,
    notes: [
      `Throughput: ${settings.jobs} jobs submitted as fast as the producer can (bare: addBulk in chunks of 1,000; queue path and worker + pg: enqueueJob for each job, 1,000 at a time; end to end: POST /v1/jobs over ${settings.httpConnections} keep-alive connections), timed from the first submission until the last job completed; one worker process at concurrency ${settings.concurrency}, on the same Redis (${TEST_REDIS_URL}).`,
      `Latency: ${settings.paceRate} jobs/s for ${settings.paceSeconds} s (well below every variant's capacity), enqueue to completion from the job records: BullMQ's timestamp → finishedOn; end to end: the row's created_at → finished_at (PostgreSQL's clock).`,
      'Jobs are system.echo with an empty payload; the bare worker is a no-op. The api and the worker run their production builds (NODE_ENV=production, JSON logs at info).',
    ],
  };
}

async function bareBullmq(
  context: BenchContext,
  settings: Settings,
  prefix: string,
): Promise<VariantResult> {
  const name = 'bare-throughput';
  const worker = startScript(`${paths.baselines}bullmq-worker.ts`, {
    REDIS_URL: TEST_REDIS_URL,
    PREFIX: prefix,
    QUEUE: name,
    CONCURRENCY: String(settings.concurrency),
  });
  const { queue, close } = producer(prefix, name);
  try {
    await waitForReadyLine(worker);
    const started = performance.now();
    for (let i = 0; i < settings.jobs; i += 1_000) {
      const chunk = Array.from({ length: Math.min(1_000, settings.jobs - i) }, () => ({
        name: 'noop',
        data: {},
      }));
      await queue.addBulk(chunk);
    }
    const done = await waitForCount('bare BullMQ', () => completedCount(queue), settings.jobs);
    const jobsPerSecond = (settings.jobs * 1000) / (done - started);
    context.log(`  bare BullMQ: ${Math.round(jobsPerSecond)} jobs/s`);
    await queue.obliterate({ force: true });

    await paced(settings.paceRate, settings.paceSeconds, () =>
      queue.addBulk([{ name: 'noop', data: {} }]),
    );
    const total = Math.round(settings.paceRate * settings.paceSeconds);
    await waitForCount('bare BullMQ (paced)', () => completedCount(queue), total);
    const latencies = await bullLatencies(queue);
    return summarize('bare BullMQ', jobsPerSecond, latencies);
  } finally {
    await close();
    await worker.stop();
  }
}

async function queuePath(
  context: BenchContext,
  settings: Settings,
  prefix: string,
): Promise<VariantResult> {
  const worker = startScript(`${paths.root}bench/src/workers/queue-path-worker.ts`, {
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    WORKER_CONCURRENCY: String(settings.concurrency),
    NODE_ENV: 'production',
  });
  const { queue, close } = producer(prefix);
  const enqueue = (q: JobQueue) =>
    enqueueJob(q, { id: randomUUID(), type: 'system.echo', payload: {} });
  try {
    await waitForReadyLine(worker);
    const started = performance.now();
    for (let i = 0; i < settings.jobs; i += 1_000) {
      const size = Math.min(1_000, settings.jobs - i);
      await Promise.all(Array.from({ length: size }, () => enqueue(queue)));
    }
    const done = await waitForCount('queue path', () => completedCount(queue), settings.jobs);
    const jobsPerSecond = (settings.jobs * 1000) / (done - started);
    context.log(`  queue path: ${Math.round(jobsPerSecond)} jobs/s`);
    await queue.obliterate({ force: true });

    await paced(settings.paceRate, settings.paceSeconds, () => enqueue(queue));
    const total = Math.round(settings.paceRate * settings.paceSeconds);
    await waitForCount('queue path (paced)', () => completedCount(queue), total);
    return summarize('queue path', jobsPerSecond, await bullLatencies(queue));
  } finally {
    await close();
    await worker.stop();
  }
}

async function insertRows(pool: pg.Pool, count: number): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO jobs (type, payload, max_attempts)
     SELECT 'system.echo', '{}'::jsonb, 3 FROM generate_series(1, $1::int) RETURNING id`,
    [count],
  );
  return rows.map((row) => row.id);
}

async function startWorkerApp(data: BenchData, settings: Settings, prefix: string) {
  const worker = await startApp('worker', data, {
    QUEUE_PREFIX: prefix,
    WORKER_CONCURRENCY: String(settings.concurrency),
  });
  await waitForStatus(`${worker.url}/health/ready`, { intervalMs: 20 });
  return worker;
}

async function workerWithPostgres(
  context: BenchContext,
  settings: Settings,
  data: BenchData,
  prefix: string,
  pool: pg.Pool,
  succeededRows: () => Promise<number>,
): Promise<VariantResult> {
  await pool.query('TRUNCATE jobs');
  const worker = await startWorkerApp(data, settings, prefix);
  const { queue, close } = producer(prefix);
  try {
    const ids = await insertRows(pool, settings.jobs);
    const started = performance.now();
    for (let i = 0; i < ids.length; i += 1_000) {
      await Promise.all(
        ids
          .slice(i, i + 1_000)
          .map((id) => enqueueJob(queue, { id, type: 'system.echo', payload: {} })),
      );
    }
    const done = await waitForCount('worker + pg', succeededRows, settings.jobs);
    const jobsPerSecond = (settings.jobs * 1000) / (done - started);
    context.log(`  worker + pg: ${Math.round(jobsPerSecond)} jobs/s`);

    await pool.query('TRUNCATE jobs');
    await queue.obliterate({ force: true });
    const total = Math.round(settings.paceRate * settings.paceSeconds);
    const pacedIds = await insertRows(pool, total);
    let next = 0;
    await paced(settings.paceRate, settings.paceSeconds, () => {
      const id = pacedIds[next++] as string;
      return enqueueJob(queue, { id, type: 'system.echo', payload: {} });
    });
    await waitForCount('worker + pg (paced)', succeededRows, total);
    await waitForCount('worker + pg (paced, BullMQ)', () => completedCount(queue), total);
    return summarize('worker + pg', jobsPerSecond, await bullLatencies(queue));
  } finally {
    await close();
    await worker.process.stop();
  }
}

async function endToEnd(
  context: BenchContext,
  settings: Settings,
  data: BenchData,
  pool: pg.Pool,
  succeededRows: () => Promise<number>,
): Promise<VariantResult> {
  await pool.query('TRUNCATE jobs');
  const prefix = data.keys.prefix;
  let api: RunningApp | undefined;
  let worker: RunningApp | undefined;
  try {
    worker = await startWorkerApp(data, settings, prefix);
    api = await startApp('api', data, { QUEUE_PREFIX: prefix });
    await waitForStatus(`${api.url}/health/ready`, { intervalMs: 20 });
    const headers = {
      Authorization: `Bearer ${BENCH_API_KEY}`,
      'Content-Type': 'application/json',
    };
    const body = JSON.stringify({ type: 'system.echo', payload: {} });

    const started = performance.now();
    const posted = await autocannon({
      url: `${api.url}/v1/jobs`,
      method: 'POST',
      headers,
      body,
      connections: settings.httpConnections,
      amount: settings.jobs,
    });
    const accepted = posted.statusCodeStats?.['202']?.count ?? 0;
    if (accepted !== settings.jobs) {
      throw new Error(
        `end to end: ${accepted} of ${settings.jobs} POSTs answered 202 (${JSON.stringify(posted.statusCodeStats)}, errors ${posted.errors})`,
      );
    }
    const postedAt = performance.now();
    const done = await waitForCount('end to end', succeededRows, settings.jobs);
    const jobsPerSecond = (settings.jobs * 1000) / (done - started);
    context.log(
      `  end to end: ${Math.round(jobsPerSecond)} jobs/s (POSTs took ${Math.round(postedAt - started)} ms, ${Math.round((settings.jobs * 1000) / (postedAt - started))}/s)`,
    );

    await pool.query('TRUNCATE jobs');
    const total = Math.round(settings.paceRate * settings.paceSeconds);
    const url = `${api.url}/v1/jobs`;
    await paced(settings.paceRate, settings.paceSeconds, async () => {
      const res = await fetch(url, { method: 'POST', headers, body });
      if (res.status !== 202) throw new Error(`POST /v1/jobs answered ${res.status}`);
      await res.arrayBuffer();
    });
    await waitForCount('end to end (paced)', succeededRows, total);
    const { rows } = await pool.query<{ ms: number }>(
      `SELECT EXTRACT(EPOCH FROM (finished_at - created_at)) * 1000 AS ms FROM jobs
        WHERE status = 'succeeded'`,
    );
    return summarize(
      'end to end',
      jobsPerSecond,
      rows.map((row) => Number(row.ms)),
    );
  } finally {
    await api?.process.stop();
    await worker?.process.stop();
  }
}

function summarize(name: string, jobsPerSecond: number, latencies: number[]): VariantResult {
  return {
    name,
    jobsPerSecond,
    latencyP50Ms: percentile(latencies, 0.5),
    latencyP99Ms: percentile(latencies, 0.99),
    latencyJobs: latencies.length,
  };
}

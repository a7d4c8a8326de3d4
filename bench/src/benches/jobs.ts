// Jobs: how many jobs per second complete, and how long one takes from enqueue to completion,
// for bare BullMQ (addBulk + a no-op Worker) and for the project's paths on the same Redis, with
// the same worker concurrency:
//   queue path   the contract's createJobEnqueuer → the worker app's BullMQ worker (createJobWorker)
//                running the contract's validation and the system.echo handler, no PostgreSQL
//   worker + pg  rows already in PostgreSQL, createJobEnqueuer → the worker app (dist) → succeeded
//                (as the api enqueues: the row's count in the data, so short jobs write no
//                `running`); "running first" again with JOB_RUNNING_STATUS_DELAY=0ms (two writes)
//   end to end   POST /v1/jobs to the api (dist) → the worker app (dist) → succeeded in PostgreSQL
//   same architecture, by hand   the same path as a team writes it without the project: bare
//                Express POST → one pg INSERT → queue.add → a BullMQ Worker → two pg UPDATEs per job
//   … limits on  the queue path and end to end again with every kind of limit declared for
//                system.echo (JOB_LIMITS) and the jobs' concurrencyKeys spread over 100 tenants,
//                none of the limits ever reached: the cost of fair execution itself
import { randomUUID } from 'node:crypto';
import { createJobEnqueuer, QUEUE_NAME, resolveJobLimits } from '@repo/jobs';
import {
  createTestRedisPrefix,
  freePort,
  type ServiceProcess,
  type TestRedisPrefix,
} from '@repo/testing';
import autocannon from 'autocannon';
import { type Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { waitForStatus } from '../lib/http-probe.ts';
import { paths } from '../lib/paths.ts';
import { measureCpu, type ProcessGroups, pidsMatching } from '../lib/process-cpu.ts';
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
import { median, percentile } from '../lib/stats.ts';
import type { BenchContext, BenchOutput } from './types.ts';

interface Settings {
  /** Jobs per timed run. */
  jobs: number;
  /** Timed runs per variant, the variants taking turns. */
  rounds: number;
  warmupJobs: number;
  concurrency: number;
  paceRate: number;
  paceSeconds: number;
  httpConnections: number;
}

interface ThroughputRound {
  jobsPerSecond: number;
  /** CPU time per job of each group of processes during the run, in µs. */
  cpuPerJobUs: Record<string, number>;
}

interface VariantResult {
  name: string;
  /** The median of the rounds. */
  jobsPerSecond: number;
  roundsJobsPerSecond: number[];
  /** The median of the rounds, per group of processes. */
  cpuPerJobUs: Record<string, number>;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyJobs: number;
}

/** What was recorded about completed jobs: the last completion, and enqueue → completion times. */
interface CompletionRecords {
  lastFinishedAt: number;
  latenciesMs: number[];
}

/** One way of getting jobs done, with its processes running. */
interface Variant {
  name: string;
  /** The processes doing its work, besides this one (the producer or load generator). */
  processes: ProcessGroups;
  /** Work before a timed run that is not part of it (worker + pg: the rows). */
  prepare?(count: number): Promise<void>;
  /** Submits `count` jobs as fast as the producer can; resolves once all were accepted. */
  submit(count: number): Promise<void>;
  /** Submits one job (the paced latency run). */
  submitOne(): Promise<void>;
  completed(): Promise<number>;
  records(): Promise<CompletionRecords>;
  /** Forgets finished jobs, so that the next run counts from zero. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

const SAME_ARCHITECTURE = 'same architecture, by hand';

/** This process: the producer, or autocannon end to end; it also polls for completions. */
const LOAD_GENERATOR = 'producer / load generator';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `count` until it reaches `n`. */
async function waitForCount(
  what: string,
  count: () => Promise<number>,
  n: number,
  timeoutMs = 10 * 60_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = 0;
  while (performance.now() < deadline) {
    last = await count();
    if (last >= n) return;
    await sleep(50);
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

/** Every process that may work on a variant's jobs, measured around each timed run. */
function processesOf(variant: Variant): ProcessGroups {
  return {
    ...variant.processes,
    [LOAD_GENERATOR]: () => [process.pid],
    PostgreSQL: () => pidsMatching(/^postgres/),
    Redis: () => pidsMatching(/^redis-server/),
  };
}

/** Fresh processes run their first thousand jobs through unoptimised code: a discarded run. */
async function warmUp(settings: Settings, variant: Variant): Promise<void> {
  await variant.prepare?.(settings.warmupJobs);
  await variant.submit(settings.warmupJobs);
  await waitForCount(`${variant.name} (warm-up)`, () => variant.completed(), settings.warmupJobs);
  await variant.reset();
}

/**
 * One timed run: from the first submission until the last completion as the jobs' own records
 * give it — not when polling noticed, nor when the load generator returned (autocannon resolves
 * on whole seconds).
 */
async function timedRun(settings: Settings, variant: Variant): Promise<ThroughputRound> {
  await variant.prepare?.(settings.jobs);
  const started = Date.now();
  const { cpuMs } = await measureCpu(processesOf(variant), async () => {
    await variant.submit(settings.jobs);
    await waitForCount(variant.name, () => variant.completed(), settings.jobs);
  });
  const { lastFinishedAt } = await variant.records();
  await variant.reset();
  return {
    jobsPerSecond: (settings.jobs * 1000) / (lastFinishedAt - started),
    cpuPerJobUs: Object.fromEntries(
      Object.entries(cpuMs).map(([group, ms]) => [group, (ms * 1000) / settings.jobs]),
    ),
  };
}

/** Enqueue-to-completion times at a pace well below every variant's capacity. */
async function latencyRun(settings: Settings, variant: Variant): Promise<number[]> {
  const total = Math.round(settings.paceRate * settings.paceSeconds);
  await variant.prepare?.(total);
  await paced(settings.paceRate, settings.paceSeconds, () => variant.submitOne());
  await waitForCount(`${variant.name} (paced)`, () => variant.completed(), total);
  const { latenciesMs } = await variant.records();
  await variant.reset();
  return latenciesMs;
}

/** Medians over the rounds, per figure. */
function summarize(
  name: string,
  rounds: readonly ThroughputRound[],
  latenciesMs: readonly number[],
): VariantResult {
  const groups = Object.keys(rounds[0]?.cpuPerJobUs ?? {});
  return {
    name,
    jobsPerSecond: median(rounds.map((round) => round.jobsPerSecond)),
    roundsJobsPerSecond: rounds.map((round) => round.jobsPerSecond),
    cpuPerJobUs: Object.fromEntries(
      groups.map((group) => [group, median(rounds.map((round) => round.cpuPerJobUs[group] ?? 0))]),
    ),
    latencyP50Ms: percentile(latenciesMs, 0.5),
    latencyP99Ms: percentile(latenciesMs, 0.99),
    latencyJobs: latenciesMs.length,
  };
}

/** Completion records of BullMQ's completed jobs: its timestamp → finishedOn. */
async function bullRecords(queue: Queue): Promise<CompletionRecords> {
  const jobs: Job[] = await queue.getJobs(['completed'], 0, -1);
  const finished = jobs.filter((job) => job.finishedOn !== undefined);
  return {
    lastFinishedAt: Math.max(...finished.map((job) => job.finishedOn as number)),
    latenciesMs: finished.map((job) => (job.finishedOn as number) - job.timestamp),
  };
}

/** The last succeeded row's finished_at (PostgreSQL's clock, the same machine's as this one). */
async function lastRowFinishedAt(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ last: Date }>(
    "SELECT max(finished_at) AS last FROM jobs WHERE status = 'succeeded'",
  );
  return rows[0]?.last.getTime() ?? Number.NaN;
}

/**
 * Completion records of jobs submitted over HTTP: from the moment the client sent each request
 * (`sentAt`, by the id the response gave) to its row's finished_at — HTTP, the api's batching and
 * the queue included, as BullMQ's `timestamp` includes everything after the producer's call.
 */
async function clientTimedRecords(
  pool: pg.Pool,
  sentAt: ReadonlyMap<string, number>,
): Promise<CompletionRecords> {
  const { rows } = await pool.query<{ id: string; finished: Date }>(
    `SELECT id, finished_at AS finished FROM jobs WHERE status = 'succeeded'`,
  );
  const latenciesMs: number[] = [];
  for (const row of rows) {
    const sent = sentAt.get(row.id);
    if (sent !== undefined) latenciesMs.push(row.finished.getTime() - sent);
  }
  return {
    lastFinishedAt: Math.max(...rows.map((row) => row.finished.getTime())),
    latenciesMs,
  };
}

/** POSTs one job, noting when it was sent under the id the answer gives. */
async function postOne(
  url: string,
  headers: Record<string, string>,
  body: string,
  sentAt: Map<string, number>,
): Promise<void> {
  const sent = Date.now();
  const res = await fetch(url, { method: 'POST', headers, body });
  if (res.status !== 202) throw new Error(`POST ${url} answered ${res.status}`);
  const { id } = (await res.json()) as { id: string };
  sentAt.set(id, sent);
}

/** POSTs `count` jobs with autocannon; throws unless every one was answered 202. */
async function postMany(
  name: string,
  options: {
    url: string;
    headers: Record<string, string>;
    /** one body for every request, or a function called for each request's own */
    body: string | (() => string);
    connections: number;
  },
  count: number,
): Promise<void> {
  const { body, ...request } = options;
  const posted = await autocannon({
    ...request,
    ...(typeof body === 'string'
      ? { body }
      : { requests: [{ setupRequest: (each) => ({ ...each, body: body() }) }] }),
    method: 'POST',
    amount: count,
  });
  const accepted = posted.statusCodeStats?.['202']?.count ?? 0;
  if (accepted !== count) {
    throw new Error(
      `${name}: ${accepted} of ${count} POSTs answered 202 (${JSON.stringify(posted.statusCodeStats)}, errors ${posted.errors})`,
    );
  }
}

async function succeededRows(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    "SELECT count(*) AS n FROM jobs WHERE status = 'succeeded'",
  );
  return Number(rows[0]?.n ?? 0);
}

function producer(prefix: string, name = QUEUE_NAME) {
  // the api's kind of connection: no offline queue, fail fast
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  const queue = new Queue(name, { connection, prefix });
  return {
    queue,
    connection,
    async close() {
      await queue.close();
      connection.disconnect();
    },
  };
}

async function waitForReadyLine(child: ServiceProcess) {
  await child.waitForLog((line) => line.msg === 'ready', 30_000);
}

/** Calls `submit` for each of `count` jobs, 1,000 at a time. */
async function inThousands(count: number, submit: (index: number) => Promise<unknown>) {
  for (let i = 0; i < count; i += 1_000) {
    const size = Math.min(1_000, count - i);
    await Promise.all(Array.from({ length: size }, (_, n) => submit(i + n)));
  }
}

/**
 * Counting, timing and clearing a variant whose jobs BullMQ alone records (no PostgreSQL): its
 * completed jobs are the count, their timestamps the records.
 */
function recordedByBullmq(queue: Queue): Pick<Variant, 'completed' | 'records' | 'reset'> {
  return {
    completed: () => queue.getCompletedCount(),
    records: () => bullRecords(queue),
    reset: () => queue.obliterate({ force: true }),
  };
}

/**
 * Submitting, counting, timing and clearing a variant whose jobs are POSTed over HTTP and recorded
 * in PostgreSQL (end to end, and the same path by hand): autocannon for the timed runs, one fetch
 * per paced job noting when it was sent, the succeeded rows as the count.
 */
function postedOverHttp(
  name: string,
  settings: Settings,
  pool: pg.Pool,
  request: { url: string; headers: Record<string, string>; body: string | (() => string) },
): Pick<Variant, 'submit' | 'submitOne' | 'completed' | 'records' | 'reset'> {
  const { url, headers, body } = request;
  const sentAt = new Map<string, number>();
  return {
    submit: (count) =>
      postMany(name, { url, headers, body, connections: settings.httpConnections }, count),
    submitOne: () => postOne(url, headers, typeof body === 'string' ? body : body(), sentAt),
    completed: () => succeededRows(pool),
    records: () => clientTimedRecords(pool, sentAt),
    reset: async () => {
      sentAt.clear();
      await pool.query('TRUNCATE jobs');
    },
  };
}

/** Starts the second process of a variant; the first is stopped when the second fails to start. */
async function startSecond<T>(first: { stop(): Promise<unknown> }, start: () => Promise<T>) {
  try {
    return await start();
  } catch (error) {
    await first.stop();
    throw error;
  }
}

export async function jobsBench(context: BenchContext): Promise<BenchOutput> {
  const settings: Settings = {
    jobs: context.quick ? 1_000 : 5_000,
    rounds: context.quick ? 2 : 5,
    warmupJobs: context.quick ? 500 : 2_000,
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
  const variants: Variant[] = [];
  try {
    // Every variant's processes start first and the variants take turns, round after round, so
    // that a slow minute on this shared machine lands on all of them rather than on one.
    variants.push(await bareBullmq(settings, newPrefix('bare')));
    variants.push(await queuePath(settings, newPrefix('queue-path')));
    variants.push(await workerWithPostgres(settings, data, newPrefix('worker-pg'), pool));
    variants.push(
      await workerWithPostgres(settings, data, newPrefix('worker-pg-running'), pool, {
        runningFirst: true,
      }),
    );
    variants.push(await endToEnd(settings, data, pool));
    variants.push(await sameArchitecture(settings, data, newPrefix('by-hand'), pool));
    variants.push(await queuePath(settings, newPrefix('queue-path-limits'), { limits: true }));
    variants.push(
      await endToEnd(settings, data, pool, { limits: true, prefix: newPrefix('e2e-limits') }),
    );
    for (const variant of variants) await warmUp(settings, variant);
    const rounds = new Map<Variant, ThroughputRound[]>(variants.map((variant) => [variant, []]));
    for (let round = 1; round <= settings.rounds; round += 1) {
      for (const variant of variants) {
        const result = await timedRun(settings, variant);
        rounds.get(variant)?.push(result);
        context.log(
          `  round ${round}, ${variant.name}: ${Math.round(result.jobsPerSecond)} jobs/s`,
        );
      }
    }
    for (const variant of variants) {
      results.push(
        summarize(variant.name, rounds.get(variant) ?? [], await latencyRun(settings, variant)),
      );
    }
  } finally {
    for (const variant of variants) await variant.stop();
    await pool.end();
    for (const keys of prefixes) await keys.cleanup();
    await data.drop();
  }

  const [bare, ...others] = results;
  if (!bare) throw new Error('no baseline result');
  const targets: Record<string, number> = {
    'queue path': 0.7,
    'worker + pg': 0.4,
    'end to end': 0.3,
  };
  const figures: Figure[] = [];
  for (const variant of others) {
    const unlimited = results.find((result) => `${result.name}${LIMITS_ON}` === variant.name);
    if (unlimited) {
      figures.push(
        figure({
          subject: variant.name,
          metric: 'throughput',
          unit: 'jobs/s',
          value: variant.jobsPerSecond,
          baseline: { name: `${unlimited.name}, no limits`, value: unlimited.jobsPerSecond },
        }),
        figure({
          subject: variant.name,
          metric: `latency p50 at ${settings.paceRate}/s`,
          unit: 'ms',
          value: variant.latencyP50Ms,
          baseline: { name: `${unlimited.name}, no limits`, value: unlimited.latencyP50Ms },
        }),
      );
    }
    figures.push(
      ...figuresAgainst(variant, { name: 'bare BullMQ', result: bare }, settings, {
        throughputTarget: targets[variant.name],
      }),
    );
  }
  const endToEndResult = others.find((variant) => variant.name === 'end to end');
  const byHand = others.find((variant) => variant.name === SAME_ARCHITECTURE);
  if (endToEndResult && byHand) {
    figures.push(
      ...figuresAgainst(endToEndResult, { name: SAME_ARCHITECTURE, result: byHand }, settings, {
        throughputTarget: 1.5,
      }),
    );
  }
  return {
    settings: { ...settings },
    figures,
    notes: [
      `Throughput: ${settings.jobs.toLocaleString('en')} jobs submitted as fast as the producer can (bare: addBulk in chunks of 1,000; queue path and worker + pg: the contract's createJobEnqueuer for each job, 1,000 at a time; end to end: POST /v1/jobs over ${settings.httpConnections} keep-alive connections; same architecture: the same POSTs to the bare Express app), timed from the first submission until the last job's recorded completion; one worker process at concurrency ${settings.concurrency}, on the same Redis (${TEST_REDIS_URL}). All variants' processes run from the start and take turns for ${settings.rounds} rounds after a discarded warm-up of ${settings.warmupJobs.toLocaleString('en')} jobs each; figures are medians of the rounds (jobs/s per round: ${results.map((result) => `${result.name} ${result.roundsJobsPerSecond.map((n) => Math.round(n).toLocaleString('en')).join(', ')}`).join('; ')}).`,
      `Latency: ${settings.paceRate} jobs/s for ${settings.paceSeconds} s (well below every variant's capacity), from the client's call to completion: BullMQ's timestamp (set by the producer when it calls add) → finishedOn; end to end and same architecture: when the client sent the POST → the row's finished_at (PostgreSQL's clock on the same machine).`,
      `Same architecture, by hand (bench/src/baselines): bare Express 5, one pg INSERT and one queue.add per POST, a BullMQ Worker at concurrency ${settings.concurrency} making two pg UPDATEs per job (running, succeeded); no batching, validation, authentication, logging or metrics.`,
      'Jobs are system.echo with an empty payload; the bare worker is a no-op. The api and the worker run their production builds (NODE_ENV=production, JSON logs at info).',
      `Limits on: JOB_LIMITS=${BENCH_LIMITS} (the worker's and the api's, which decides park on arrival for each addBulk) and each job's concurrencyKey one of ${BENCH_TENANTS} tenants in turn, so every job is admitted through the Lua scripts (a start recorded per key, a slot of the type and of its key taken and given back) while no limit is reached.`,
      `CPU per job during the timed run (user + system time from /proc, every PostgreSQL and Redis process included; two cores give at most 2,000,000 µs a second): ${results.map(describeCpu).join('; ')}.`,
    ],
  };
}

/**
 * A variant's throughput (with the ratio it must reach, if any), CPU per job and paced latency
 * (p50, p99) against a baseline's.
 */
function figuresAgainst(
  result: VariantResult,
  baseline: { name: string; result: VariantResult },
  settings: Settings,
  options: { throughputTarget?: number } = {},
): Figure[] {
  const { throughputTarget } = options;
  const against = (value: number) => ({ name: baseline.name, value });
  return [
    figure({
      subject: result.name,
      metric: 'throughput',
      unit: 'jobs/s',
      value: result.jobsPerSecond,
      baseline: against(baseline.result.jobsPerSecond),
      target:
        throughputTarget === undefined
          ? undefined
          : { of: 'ratio', op: '>=', value: throughputTarget },
    }),
    figure({
      subject: result.name,
      metric: 'CPU per job, all processes',
      unit: 'µs',
      value: totalCpuUs(result),
      baseline: against(totalCpuUs(baseline.result)),
    }),
    figure({
      subject: result.name,
      metric: `latency p50 at ${settings.paceRate}/s`,
      unit: 'ms',
      value: result.latencyP50Ms,
      baseline: against(baseline.result.latencyP50Ms),
    }),
    figure({
      subject: result.name,
      metric: `latency p99 at ${settings.paceRate}/s`,
      unit: 'ms',
      value: result.latencyP99Ms,
      baseline: against(baseline.result.latencyP99Ms),
    }),
  ];
}

function totalCpuUs(result: VariantResult): number {
  return Object.values(result.cpuPerJobUs).reduce((sum, us) => sum + us, 0);
}

function describeCpu(result: VariantResult): string {
  const parts = Object.entries(result.cpuPerJobUs)
    .sort(([, a], [, b]) => b - a)
    .map(([group, us]) => `${group} ${Math.round(us)} µs`);
  return `${result.name} ${Math.round(totalCpuUs(result))} µs (${parts.join(', ')})`;
}

async function bareBullmq(settings: Settings, prefix: string): Promise<Variant> {
  const name = 'bare-throughput';
  const worker = startScript(`${paths.baselines}bullmq-worker.ts`, {
    REDIS_URL: TEST_REDIS_URL,
    PREFIX: prefix,
    QUEUE: name,
    CONCURRENCY: String(settings.concurrency),
  });
  await waitForReadyLine(worker);
  const { queue, close } = producer(prefix, name);
  const noop = { name: 'noop', data: {} };
  return {
    name: 'bare BullMQ',
    processes: { worker: () => [worker.child.pid] },
    async submit(count) {
      for (let i = 0; i < count; i += 1_000) {
        await queue.addBulk(Array.from({ length: Math.min(1_000, count - i) }, () => noop));
      }
    },
    submitOne: async () => {
      await queue.addBulk([noop]);
    },
    ...recordedByBullmq(queue),
    async stop() {
      await close();
      await worker.stop();
    },
  };
}

/** Limits for the "limits on" variants: every kind, none reached at concurrency 10. */
const BENCH_LIMITS = JSON.stringify({
  'system.echo': {
    maxConcurrent: 1_000,
    maxConcurrentPerKey: 1_000,
    rateLimitPerKey: { max: 100_000, perSeconds: 1 },
  },
});
const BENCH_TENANTS = 100;
const LIMITS_ON = ', limits on';

/** tenant-0, tenant-1, … tenant-99, tenant-0, … */
function tenants(): () => string {
  let next = 0;
  return () => `tenant-${next++ % BENCH_TENANTS}`;
}

async function queuePath(
  settings: Settings,
  prefix: string,
  options: { limits?: boolean } = {},
): Promise<Variant> {
  const worker = startScript(`${paths.root}bench/src/workers/queue-path-worker.ts`, {
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    WORKER_CONCURRENCY: String(settings.concurrency),
    NODE_ENV: 'production',
    ...(options.limits ? { JOB_LIMITS: BENCH_LIMITS } : {}),
  });
  await waitForReadyLine(worker);
  const { queue, connection, close } = producer(prefix);
  // the api's enqueuer: with limits, it decides park on arrival for each batch, as the api does
  const enqueue = createJobEnqueuer(
    queue,
    options.limits
      ? { arrival: { limits: resolveJobLimits(JSON.parse(BENCH_LIMITS)), connection } }
      : {},
  );
  const tenant = tenants();
  const submitOne = () =>
    enqueue({
      id: randomUUID(),
      type: 'system.echo',
      payload: {},
      ...(options.limits ? { concurrencyKey: tenant() } : {}),
    });
  return {
    name: `queue path${options.limits ? LIMITS_ON : ''}`,
    processes: { worker: () => [worker.child.pid] },
    submit: (count) => inThousands(count, submitOne),
    submitOne,
    ...recordedByBullmq(queue),
    async stop() {
      await close();
      await worker.stop();
    },
  };
}

async function startWorkerApp(
  data: BenchData,
  settings: Settings,
  prefix: string,
  env: Record<string, string> = {},
) {
  const worker = await startApp('worker', data, {
    QUEUE_PREFIX: prefix,
    WORKER_CONCURRENCY: String(settings.concurrency),
    ...env,
  });
  await waitForStatus(`${worker.url}/health/ready`, { intervalMs: 20 });
  return worker;
}

async function workerWithPostgres(
  settings: Settings,
  data: BenchData,
  prefix: string,
  pool: pg.Pool,
  options: { runningFirst?: boolean } = {},
): Promise<Variant> {
  await pool.query('TRUNCATE jobs');
  const worker = await startWorkerApp(
    data,
    settings,
    prefix,
    options.runningFirst ? { JOB_RUNNING_STATUS_DELAY: '0ms' } : {},
  );
  const { queue, close } = producer(prefix);
  const enqueue = createJobEnqueuer(queue);
  let ids: string[] = [];
  let next = 0;
  // as the api enqueues a new row: all its attempts, and the count the worker starts from
  const submitOne = () =>
    enqueue({
      id: ids[next++] as string,
      type: 'system.echo',
      payload: {},
      maxAttempts: 3,
      rowCount: { attemptsUsed: 0, expiresAt: null },
    });
  return {
    name: options.runningFirst ? 'worker + pg, running first' : 'worker + pg',
    processes: { worker: () => [worker.process.child.pid] },
    async prepare(count) {
      const { rows } = await pool.query<{ id: string }>(
        `INSERT INTO jobs (type, payload, max_attempts)
         SELECT 'system.echo', '{}'::jsonb, 3 FROM generate_series(1, $1::int) RETURNING id`,
        [count],
      );
      ids = rows.map((row) => row.id);
      next = 0;
    },
    submit: (count) => inThousands(count, submitOne),
    submitOne,
    completed: () => succeededRows(pool),
    async records() {
      // the end from the rows (a job is done when its row says so), latency from BullMQ's records
      const [lastFinishedAt, bull] = await Promise.all([
        lastRowFinishedAt(pool),
        bullRecords(queue),
      ]);
      return { lastFinishedAt, latenciesMs: bull.latenciesMs };
    },
    async reset() {
      await pool.query('TRUNCATE jobs');
      await queue.obliterate({ force: true });
    },
    async stop() {
      await close();
      await worker.process.stop();
    },
  };
}

async function endToEnd(
  settings: Settings,
  data: BenchData,
  pool: pg.Pool,
  options: { limits?: boolean; prefix?: string } = {},
): Promise<Variant> {
  await pool.query('TRUNCATE jobs');
  const prefix = options.prefix ?? data.keys.prefix;
  const worker = await startWorkerApp(
    data,
    settings,
    prefix,
    options.limits ? { JOB_LIMITS: BENCH_LIMITS } : {},
  );
  const api: RunningApp = await startSecond(worker.process, async () => {
    const started = await startApp('api', data, {
      QUEUE_PREFIX: prefix,
      // the api parks on arrival by the workers' limits
      ...(options.limits ? { JOB_LIMITS: BENCH_LIMITS } : {}),
    });
    await waitForStatus(`${started.url}/health/ready`, { intervalMs: 20 });
    return started;
  });
  const tenant = tenants();
  return {
    name: `end to end${options.limits ? LIMITS_ON : ''}`,
    processes: { api: () => [api.process.child.pid], worker: () => [worker.process.child.pid] },
    ...postedOverHttp('end to end', settings, pool, {
      url: `${api.url}/v1/jobs`,
      headers: { Authorization: `Bearer ${BENCH_API_KEY}`, 'Content-Type': 'application/json' },
      // a body of its own per request when limits are on: the tenants take turns
      body: () =>
        JSON.stringify({
          type: 'system.echo',
          payload: {},
          ...(options.limits ? { concurrencyKey: tenant() } : {}),
        }),
    }),
    async stop() {
      await api.process.stop();
      await worker.process.stop();
    },
  };
}

/** The same path written by hand: bare-express.ts's POST and hand-written-worker.ts. */
async function sameArchitecture(
  settings: Settings,
  data: BenchData,
  prefix: string,
  pool: pg.Pool,
): Promise<Variant> {
  const queue = 'by-hand';
  const worker = startScript(`${paths.baselines}hand-written-worker.ts`, {
    DATABASE_URL: data.database.url,
    REDIS_URL: TEST_REDIS_URL,
    PREFIX: prefix,
    QUEUE: queue,
    CONCURRENCY: String(settings.concurrency),
  });
  const port = await freePort();
  const api: ServiceProcess = await startSecond(worker, async () => {
    await waitForReadyLine(worker);
    const started = startScript(`${paths.baselines}bare-express.ts`, {
      NODE_ENV: 'production',
      PORT: String(port),
      DATABASE_URL: data.database.url,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: prefix,
      QUEUE: queue,
    });
    await waitForStatus(`http://127.0.0.1:${port}/health/live`, { intervalMs: 20 });
    return started;
  });
  return {
    name: SAME_ARCHITECTURE,
    processes: { api: () => [api.child.pid], worker: () => [worker.child.pid] },
    ...postedOverHttp(SAME_ARCHITECTURE, settings, pool, {
      url: `http://127.0.0.1:${port}/pg/v1/jobs`,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'system.echo', payload: {} }),
    }),
    async stop() {
      await api.stop();
      await worker.stop();
    },
  };
}

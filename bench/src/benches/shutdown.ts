// Shutdown: SIGTERM → process exit for each app (production build), idle and with work in
// flight, against Node's bare HTTP server and a bare Express app stopped the same way.
import { once } from 'node:events';
import { freePort, type ServiceProcess, startServiceProcess } from '@repo/testing';
import autocannon from 'autocannon';
import pg from 'pg';
import { waitForStatus } from '../lib/http-probe.ts';
import { APPS, type App, paths } from '../lib/paths.ts';
import { type Figure, figure } from '../lib/result.ts';
import { BENCH_API_KEY, type BenchData, createBenchData, startApp } from '../lib/stack.ts';
import { median } from '../lib/stats.ts';
import type { BenchContext, BenchOutput } from './types.ts';

const TARGET_MS = 1_000;

/** Sends SIGTERM and resolves with the time until the process exited, and its exit code. */
async function terminate(child: ServiceProcess): Promise<{ ms: number; code: number | null }> {
  const started = performance.now();
  const exited = child.child.exitCode !== null ? Promise.resolve() : once(child.child, 'exit');
  child.child.kill('SIGTERM');
  await exited;
  return { ms: performance.now() - started, code: child.child.exitCode };
}

async function startBare(file: string, env: Record<string, string> = {}) {
  const port = await freePort();
  const child = startServiceProcess(
    `${paths.baselines}${file}`,
    { NODE_ENV: 'production', PORT: String(port), LIVE_JSON: '{"status":"ok"}', ...env },
    { nodeArgs: [], cwd: paths.root },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitForStatus(`${url}/health/live`, { intervalMs: 10 });
  return { child, url };
}

async function startReady(app: App, data: BenchData, env: Record<string, string> = {}) {
  const running = await startApp(app, data, env);
  await waitForStatus(`${running.url}/health/ready`, { intervalMs: 10 });
  return running;
}

export async function shutdownBench(context: BenchContext): Promise<BenchOutput> {
  const runs = context.quick ? 2 : 5;
  const data = await createBenchData('shutdown');
  const figures: Figure[] = [];
  const exitCodes: string[] = [];
  try {
    const floor: number[] = [];
    const idle: Record<App, number[]> = { api: [], worker: [], beat: [] };
    for (let run = 0; run < runs; run += 1) {
      const bare = await startBare('bare-http.ts');
      floor.push((await terminate(bare.child)).ms);
      for (const app of APPS) {
        const running = await startReady(app, data);
        const { ms, code } = await terminate(running.process);
        idle[app].push(ms);
        if (code !== 0) exitCodes.push(`${app} idle exited ${code}`);
      }
    }
    for (const app of APPS) {
      context.log(`  ${app} idle: ${idle[app].map(Math.round).join(', ')} ms`);
      figures.push(
        figure({
          subject: `${app}, idle`,
          metric: 'SIGTERM → exit',
          unit: 'ms',
          value: median(idle[app]),
          baseline: { name: 'node:http server', value: median(floor) },
          target: { of: 'value', op: '<=', value: TARGET_MS },
        }),
      );
    }

    // the api with 32 connections of requests in flight
    const underLoad = async (url: string, child: ServiceProcess, path: string) => {
      const load = autocannon({
        url: `${url}${path}`,
        connections: 32,
        duration: 10,
        headers: { Authorization: `Bearer ${BENCH_API_KEY}` },
      });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const result = await terminate(child);
      (load as unknown as { stop(): void }).stop();
      await load;
      return result;
    };
    const apiLoaded: number[] = [];
    const bareLoaded: number[] = [];
    const id = await createJob(data);
    for (let run = 0; run < runs; run += 1) {
      const bare = await startBare('bare-express.ts', { JOB_JSON: '{}' });
      bareLoaded.push((await underLoad(bare.url, bare.child, `/v1/jobs/${id}`)).ms);
      const api = await startReady('api', data);
      const { ms, code } = await underLoad(api.url, api.process, `/v1/jobs/${id}`);
      apiLoaded.push(ms);
      if (code !== 0) exitCodes.push(`api under load exited ${code}`);
    }
    context.log(`  api under load: ${apiLoaded.map(Math.round).join(', ')} ms`);
    figures.push(
      figure({
        subject: 'api, 32 connections of GET /v1/jobs/:id in flight',
        metric: 'SIGTERM → exit',
        unit: 'ms',
        value: median(apiLoaded),
        baseline: { name: 'bare Express 5 under the same load', value: median(bareLoaded) },
      }),
    );

    // the worker with 10 jobs of 1 s running
    const workerBusy: number[] = [];
    const remaining: number[] = [];
    const pool = new pg.Pool({ connectionString: data.database.url, max: 2 });
    try {
      for (let run = 0; run < runs; run += 1) {
        await pool.query('TRUNCATE jobs');
        const worker = await startReady('worker', data);
        const api = await startReady('api', data);
        const posted = await Promise.all(
          Array.from({ length: 10 }, () => postJob(api.url, { delayMs: 1_000 })),
        );
        const started = performance.now();
        while (performance.now() - started < 10_000) {
          const { rows } = await pool.query<{ n: string }>(
            "SELECT count(*) AS n FROM jobs WHERE status = 'running'",
          );
          if (Number(rows[0]?.n) === posted.length) break;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        const runningFor = performance.now() - started;
        const { ms, code } = await terminate(worker.process);
        workerBusy.push(ms);
        remaining.push(Math.max(0, 1_000 - runningFor));
        if (code !== 0) exitCodes.push(`worker with jobs exited ${code}`);
        const { rows } = await pool.query<{ n: string }>(
          "SELECT count(*) AS n FROM jobs WHERE status = 'succeeded'",
        );
        if (Number(rows[0]?.n) !== posted.length) {
          exitCodes.push(`worker with jobs: ${rows[0]?.n} of ${posted.length} succeeded`);
        }
        await api.process.stop();
      }
    } finally {
      await pool.end();
    }
    context.log(`  worker with 10 jobs running: ${workerBusy.map(Math.round).join(', ')} ms`);
    figures.push(
      figure({
        subject: 'worker, 10 jobs of 1 s running',
        metric: 'SIGTERM → exit (jobs finish first)',
        unit: 'ms',
        value: median(workerBusy),
        baseline: { name: "the jobs' remaining run time", value: median(remaining) },
      }),
    );
  } finally {
    await data.drop();
  }
  return {
    settings: { runs },
    figures,
    notes: [
      `Median of ${runs} runs, SIGTERM to the exit event seen by the parent; production builds.`,
      'Under load: autocannon keeps 32 connections busy for 1 s, then SIGTERM; the api finishes what is in flight (Connection: close), refuses new connections, and closes PostgreSQL and Redis.',
      'Worker: 10 system.echo jobs of 1 s are all running when SIGTERM arrives; the worker lets them finish, then exits, and every one of them is succeeded in PostgreSQL.',
      ...(exitCodes.length > 0
        ? [`Problems seen: ${exitCodes.join('; ')}`]
        : ['Every run exited 0.']),
    ],
  };
}

async function postJob(url: string, payload: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${url}/v1/jobs`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${BENCH_API_KEY}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ type: 'system.echo', payload }),
  });
  if (res.status !== 202) throw new Error(`POST /v1/jobs answered ${res.status}`);
  return ((await res.json()) as { id: string }).id;
}

async function createJob(data: BenchData): Promise<string> {
  const api = await startReady('api', data);
  try {
    return await postJob(api.url, {});
  } finally {
    await api.process.stop();
  }
}

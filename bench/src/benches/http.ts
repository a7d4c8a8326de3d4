// HTTP: the api (production build) against a bare Express 5 app answering the same JSON, with the
// same autocannon settings, alternating the two in rounds so drift on a shared machine hits both.
import { QUEUE_NAME } from '@repo/jobs';
import { createTestRedisPrefix, freePort, type TestRedisPrefix } from '@repo/testing';
import { waitForStatus } from '../lib/http-probe.ts';
import { type LoadResult, runLoad } from '../lib/load.ts';
import { paths } from '../lib/paths.ts';
import type { Figure } from '../lib/result.ts';
import { figure } from '../lib/result.ts';
import {
  BENCH_API_KEY,
  createBenchData,
  type RunningApp,
  startApp,
  startScript,
  TEST_REDIS_URL,
} from '../lib/stack.ts';
import { median } from '../lib/stats.ts';
import type { BenchContext, BenchOutput } from './types.ts';

interface Target {
  name: string;
  url: string;
  pid: number | undefined;
  headers?: Record<string, string>;
  /** POST with this JSON body; GET without. */
  body?: string;
}

interface Scenario {
  subject: string;
  measured: Target;
  baselines: Target[];
  /** Target on req/s relative to the first baseline. */
  ratioTarget?: number;
}

export async function httpBench(context: BenchContext): Promise<BenchOutput> {
  const connections = context.quick ? 20 : 50;
  const durationSeconds = context.quick ? 2 : 3;
  const rounds = context.quick ? 1 : 5;
  const warmupSeconds = context.quick ? 1 : 2;
  const data = await createBenchData('http');
  let api: RunningApp | undefined;
  let bare: ReturnType<typeof startScript> | undefined;
  // the bare app's queue: its own prefix, so that the two apps' jobs never mix
  let bareKeys: TestRedisPrefix | undefined;
  try {
    api = await startApp('api', data);
    // generous: on a shared machine under load a fresh Node process can take tens of seconds
    await waitForStatus(`${api.url}/health/ready`, { intervalMs: 20, timeoutMs: 120_000 });
    const auth = { Authorization: `Bearer ${BENCH_API_KEY}` };
    const jsonPost = { ...auth, 'Content-Type': 'application/json' };
    const createBody = JSON.stringify({ type: 'system.echo', payload: {} });
    const created = await fetch(`${api.url}/v1/jobs`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'system.echo', payload: { data: { order: 1234 } } }),
    });
    if (created.status !== 202) throw new Error(`POST /v1/jobs answered ${created.status}`);
    const { id } = (await created.json()) as { id: string };
    const jobJson = await (await fetch(`${api.url}/v1/jobs/${id}`, { headers: auth })).text();
    const liveJson = await (await fetch(`${api.url}/health/live`)).text();

    const barePort = await freePort();
    bareKeys = createTestRedisPrefix('bench-http-bare');
    bare = startScript(`${paths.baselines}bare-express.ts`, {
      NODE_ENV: 'production',
      PORT: String(barePort),
      LIVE_JSON: liveJson,
      JOB_JSON: jobJson,
      DATABASE_URL: data.database.url,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: bareKeys.prefix,
      QUEUE: QUEUE_NAME,
    });
    const bareUrl = `http://127.0.0.1:${barePort}`;
    await waitForStatus(`${bareUrl}/health/live`, { intervalMs: 20, timeoutMs: 120_000 });

    const scenarios: Scenario[] = [
      {
        subject: 'GET /health/live',
        measured: { name: 'api', url: `${api.url}/health/live`, pid: api.process.child.pid },
        baselines: [{ name: 'bare Express 5', url: `${bareUrl}/health/live`, pid: bare.child.pid }],
        ratioTarget: 0.85,
      },
      {
        subject: 'GET /v1/jobs/:id (Bearer)',
        measured: {
          name: 'api',
          url: `${api.url}/v1/jobs/${id}`,
          pid: api.process.child.pid,
          headers: auth,
        },
        baselines: [
          {
            name: 'bare Express 5 + pg SELECT',
            url: `${bareUrl}/pg/v1/jobs/${id}`,
            pid: bare.child.pid,
            headers: auth,
          },
          {
            name: 'bare Express 5, static JSON',
            url: `${bareUrl}/v1/jobs/${id}`,
            pid: bare.child.pid,
            headers: auth,
          },
        ],
        ratioTarget: 0.8,
      },
      {
        subject: 'POST /v1/jobs (Bearer)',
        measured: {
          name: 'api',
          url: `${api.url}/v1/jobs`,
          pid: api.process.child.pid,
          headers: jsonPost,
          body: createBody,
        },
        baselines: [
          {
            name: 'bare Express 5 + pg INSERT + queue.add',
            url: `${bareUrl}/pg/v1/jobs`,
            pid: bare.child.pid,
            headers: jsonPost,
            body: createBody,
          },
        ],
        ratioTarget: 0.8,
      },
    ];

    const figures: Figure[] = [];
    const runs: Record<string, LoadResult[]> = {};
    for (const scenario of scenarios) {
      const targets = [...scenario.baselines, scenario.measured];
      for (const target of targets) {
        await runLoad({
          url: target.url,
          connections,
          durationSeconds: warmupSeconds,
          ...(target.headers ? { headers: target.headers } : {}),
          ...(target.body === undefined ? {} : { method: 'POST' as const, body: target.body }),
        });
      }
      for (let round = 0; round < rounds; round += 1) {
        for (const target of targets) {
          const result = await runLoad({
            url: target.url,
            connections,
            durationSeconds,
            serverPid: target.pid,
            ...(target.headers ? { headers: target.headers } : {}),
            ...(target.body === undefined ? {} : { method: 'POST' as const, body: target.body }),
          });
          const key = `${scenario.subject} | ${target.name}`;
          runs[key] = [...(runs[key] ?? []), result];
          context.log(
            `  ${key}: ${Math.round(result.requestsPerSecond)} req/s, p50 ${result.latencyP50Ms.toFixed(2)} ms, p99 ${result.latencyP99Ms.toFixed(2)} ms, server CPU ${result.serverCpuUsPerRequest?.toFixed(1)} µs/request, errors ${result.errors}, non-2xx ${result.non2xx}`,
          );
        }
      }
      const summary = (target: Target) => {
        const results = runs[`${scenario.subject} | ${target.name}`] ?? [];
        return {
          rps: median(results.map((r) => r.requestsPerSecond)),
          p50: median(results.map((r) => r.latencyP50Ms)),
          p99: median(results.map((r) => r.latencyP99Ms)),
          cpu: median(results.map((r) => r.serverCpuUsPerRequest ?? Number.NaN)),
          failures: results.reduce((sum, r) => sum + r.errors + r.non2xx, 0),
        };
      };
      const measured = summary(scenario.measured);
      scenario.baselines.forEach((baseline, index) => {
        const base = summary(baseline);
        const target =
          index === 0 && scenario.ratioTarget !== undefined
            ? { of: 'ratio' as const, op: '>=' as const, value: scenario.ratioTarget }
            : undefined;
        figures.push(
          figure({
            subject: scenario.subject,
            metric: 'throughput',
            unit: 'req/s',
            value: measured.rps,
            baseline: { name: baseline.name, value: base.rps },
            target,
          }),
          figure({
            subject: scenario.subject,
            metric: 'latency p50',
            unit: 'ms',
            value: measured.p50,
            baseline: { name: baseline.name, value: base.p50 },
          }),
          figure({
            subject: scenario.subject,
            metric: 'latency p99',
            unit: 'ms',
            value: measured.p99,
            baseline: { name: baseline.name, value: base.p99 },
          }),
          figure({
            subject: scenario.subject,
            metric: 'server CPU per request',
            unit: 'µs',
            value: measured.cpu,
            baseline: { name: baseline.name, value: base.cpu },
          }),
        );
        if (base.failures > 0) {
          context.note(
            `${baseline.name} had ${base.failures} failed or non-2xx responses on ${scenario.subject}`,
          );
        }
      });
      if (measured.failures > 0) {
        context.note(
          `the api had ${measured.failures} failed or non-2xx responses on ${scenario.subject}`,
        );
      }
    }
    return {
      settings: { connections, durationSeconds, rounds, warmupSeconds, pipelining: 1 },
      figures,
      notes: [
        `autocannon, ${connections} connections, ${rounds} alternating rounds of ${durationSeconds} s per target after a ${warmupSeconds} s warm-up; figures are the median of the rounds.`,
        'Baselines do what a team writes by hand, with no authentication, validation, logging or metrics: /health/live answered with the same writeHead/end and headers as the api; GET reads the row with one pg SELECT; POST writes it with one pg INSERT and one BullMQ queue.add (no worker consumes either queue during this bench).',
        'The api runs as production does: node apps/api/dist/main.js, NODE_ENV=production, JSON logs at info (one line per /v1 request, read by the bench through a pipe); the bare app logs nothing.',
      ],
    };
  } finally {
    await bare?.stop();
    await api?.process.stop();
    await bareKeys?.cleanup();
    await data.drop();
  }
}

// Tracing: what OpenTelemetry costs the api. POST /v1/jobs (the request with the most spans: the
// HTTP server span, the INSERT, the enqueue and BullMQ's Redis commands) against two apis on one
// database and queue, one with tracing off and one exporting every span (OTLP/HTTP, sampled
// always) to a receiver in this process, alternating rounds so drift hits both.
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HOOK_TIMEOUT_MS } from '@repo/testing';
import { waitForStatus } from '../lib/http-probe.ts';
import { type LoadResult, runLoad } from '../lib/load.ts';
import { figure } from '../lib/result.ts';
import { BENCH_API_KEY, createBenchData, type RunningApp, startApp } from '../lib/stack.ts';
import { median } from '../lib/stats.ts';
import type { BenchContext, BenchOutput } from './types.ts';

/** An OTLP/HTTP endpoint that takes every export and keeps only the byte count. */
async function startSpanSink() {
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bytes: () => bytes,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export async function tracingBench(context: BenchContext): Promise<BenchOutput> {
  const connections = context.quick ? 10 : 20;
  const durationSeconds = context.quick ? 2 : 3;
  const rounds = context.quick ? 1 : 5;
  const data = await createBenchData('tracing');
  const sink = await startSpanSink();
  const apps: RunningApp[] = [];
  try {
    // one after the other: a free port is only known free once the first api listens on its own
    const off = await startApp('api', data);
    apps.push(off);
    await waitForStatus(`${off.url}/health/ready`, {
      intervalMs: 20,
      timeoutMs: HOOK_TIMEOUT_MS,
    });
    const on = await startApp('api', data, {
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
      OTEL_TRACES_SAMPLER: 'always_on',
    });
    apps.push(on);
    await waitForStatus(`${on.url}/health/ready`, { intervalMs: 20, timeoutMs: HOOK_TIMEOUT_MS });

    const load = (app: RunningApp, seconds: number) =>
      runLoad({
        url: `${app.url}/v1/jobs`,
        method: 'POST',
        connections,
        durationSeconds: seconds,
        serverPid: app.process.child.pid,
        headers: { Authorization: `Bearer ${BENCH_API_KEY}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ type: 'system.echo', payload: { data: { order: 1234 } } }),
      });
    for (const app of apps) await load(app, 1);
    const runs = { off: [] as LoadResult[], on: [] as LoadResult[] };
    for (let round = 0; round < rounds; round += 1) {
      for (const [name, app] of [
        ['off', off],
        ['on', on],
      ] as const) {
        const result = await load(app, durationSeconds);
        runs[name].push(result);
        context.log(
          `  POST /v1/jobs, tracing ${name}: ${Math.round(result.requestsPerSecond)} req/s, p50 ${result.latencyP50Ms.toFixed(2)} ms, p99 ${result.latencyP99Ms.toFixed(2)} ms, server CPU ${result.serverCpuUsPerRequest?.toFixed(1)} µs/request, non-2xx ${result.non2xx}`,
        );
      }
    }
    const summary = (results: LoadResult[]) => ({
      rps: median(results.map((r) => r.requestsPerSecond)),
      p50: median(results.map((r) => r.latencyP50Ms)),
      p99: median(results.map((r) => r.latencyP99Ms)),
      cpu: median(results.map((r) => r.serverCpuUsPerRequest ?? Number.NaN)),
      failures: results.reduce((sum, r) => sum + r.errors + r.non2xx, 0),
    });
    const [withTracing, without] = [summary(runs.on), summary(runs.off)];
    const baseline = (value: number) => ({ name: 'tracing off', value });
    const subject = 'POST /v1/jobs, tracing on (every span exported)';
    if (withTracing.failures + without.failures > 0) {
      context.note(
        `failed or non-2xx responses: ${withTracing.failures} with tracing, ${without.failures} without`,
      );
    }
    return {
      settings: { connections, durationSeconds, rounds, sampler: 'always_on' },
      figures: [
        figure({
          subject,
          metric: 'throughput',
          unit: 'req/s',
          value: withTracing.rps,
          baseline: baseline(without.rps),
        }),
        figure({
          subject,
          metric: 'latency p50',
          unit: 'ms',
          value: withTracing.p50,
          baseline: baseline(without.p50),
        }),
        figure({
          subject,
          metric: 'latency p99',
          unit: 'ms',
          value: withTracing.p99,
          baseline: baseline(without.p99),
        }),
        figure({
          subject,
          metric: 'server CPU per request',
          unit: 'µs',
          value: withTracing.cpu,
          baseline: baseline(without.cpu),
        }),
      ],
      notes: [
        `autocannon, ${connections} connections, ${rounds} alternating rounds of ${durationSeconds} s per api; figures are the median of the rounds; the ratio is tracing on / tracing off.`,
        `Both apis run the production build with \`--import dist/tracing.js\`; the traced one exports over OTLP/HTTP (protobuf) to a receiver in the bench process (${Math.round(sink.bytes() / 1024)} KiB received), sampling every trace. A ratio sampler (OTEL_TRACES_SAMPLER=parentbased_traceidratio) records and exports only the sampled share; the instrumentation itself still runs on every request.`,
      ],
    };
  } catch (error) {
    for (const app of apps)
      context.log(
        `  ${app.app}: ${app.process.stderr().slice(-2_000)}${app.process.stdout().slice(-2_000)}`,
      );
    throw error;
  } finally {
    await Promise.all(apps.map((app) => app.process.stop()));
    await sink.close();
    await data.drop();
  }
}

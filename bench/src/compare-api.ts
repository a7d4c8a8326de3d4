// Before/after for a change to the api: runs two builds of it side by side (same database, same
// Redis, same autocannon settings), alternating rounds, and prints req/s and server CPU per request.
//   node --conditions=development src/compare-api.ts <before/main.js> <after/main.js> [path] [rounds]
// e.g. copy apps/api/dist to apps/api/dist-before, change the code, rebuild, then compare the two.
// A path of "POST /v1/jobs" posts a system.echo job with each request (no worker runs them); in a
// path of ":id" (e.g. "/v1/jobs/:id"), it stands for a system.echo job posted before the rounds
// (queued: no worker runs it).
import { resolve } from 'node:path';
import { freePort, type ServiceProcess, startServiceProcess } from '@repo/testing';
import { waitForStatus } from './lib/http-probe.ts';
import { runLoad } from './lib/load.ts';
import { paths } from './lib/paths.ts';
import { BENCH_API_KEY, BENCH_SECRETS_KEY, createBenchData, TEST_REDIS_URL } from './lib/stack.ts';
import { median } from './lib/stats.ts';

const print = (line: string) => process.stdout.write(`${line}\n`);
const [before, after, path = '/health/live', roundsArg = '7'] = process.argv.slice(2);
if (!before || !after) {
  console.error('usage: compare-api <before/main.js> <after/main.js> [path] [rounds]');
  process.exit(2);
}
const data = await createBenchData('compare');
const builds: { name: string; entry: string; child?: ServiceProcess; url?: string }[] = [
  { name: 'before', entry: resolve(before) },
  { name: 'after', entry: resolve(after) },
];
let [method, target] = path.startsWith('POST ')
  ? (['POST', path.slice(5)] as const)
  : (['GET', path] as const);
const headers = { Authorization: `Bearer ${BENCH_API_KEY}`, 'Content-Type': 'application/json' };
const body = method === 'POST' ? JSON.stringify({ type: 'system.echo', payload: {} }) : undefined;
try {
  for (const build of builds) {
    const port = await freePort();
    build.child = startServiceProcess(
      build.entry,
      {
        NODE_ENV: 'production',
        LOG_LEVEL: 'info',
        DATABASE_URL: data.database.url,
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: data.keys.prefix,
        API_KEYS: BENCH_API_KEY,
        WEBHOOK_SECRETS_KEY: BENCH_SECRETS_KEY,
        HOST: '127.0.0.1',
        PORT: String(port),
      },
      { nodeArgs: [], cwd: paths.root },
    );
    build.url = `http://127.0.0.1:${port}`;
    await waitForStatus(`${build.url}/health/ready`, { intervalMs: 20 });
    // both builds share the database, so the job the first one accepts serves both
    if (target.includes(':id')) target = target.replace(':id', await postJob(build.url));
    await runLoad({
      url: `${build.url}${target}`,
      connections: 50,
      durationSeconds: 2,
      headers,
      method,
      ...(body === undefined ? {} : { body }),
    });
  }
  const samples: Record<string, { rps: number[]; cpu: number[] }> = {};
  for (let round = 0; round < Number(roundsArg); round += 1) {
    for (const build of builds) {
      const result = await runLoad({
        url: `${build.url}${target}`,
        connections: 50,
        durationSeconds: 3,
        headers,
        method,
        ...(body === undefined ? {} : { body }),
        serverPid: build.child?.child.pid,
      });
      samples[build.name] ??= { rps: [], cpu: [] };
      const entry = samples[build.name] as { rps: number[]; cpu: number[] };
      entry.rps.push(result.requestsPerSecond);
      entry.cpu.push(result.serverCpuUsPerRequest ?? Number.NaN);
    }
  }
  for (const build of builds) {
    const s = samples[build.name];
    if (!s) continue;
    print(
      `${build.name.padEnd(7)} ${path}: median ${Math.round(median(s.rps))} req/s, ${median(s.cpu).toFixed(1)} µs CPU/request (rounds: ${s.rps.map((r) => Math.round(r)).join(', ')})`,
    );
  }
} finally {
  for (const build of builds) await build.child?.stop();
  await data.drop();
}

async function postJob(url: string): Promise<string> {
  const created = await fetch(`${url}/v1/jobs`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ type: 'system.echo', payload: {} }),
  });
  if (created.status !== 202) throw new Error(`POST /v1/jobs answered ${created.status}`);
  return ((await created.json()) as { id: string }).id;
}

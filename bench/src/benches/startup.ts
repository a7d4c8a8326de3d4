// Start-up: from spawning `node apps/<app>/dist/main.js` (production) until its health endpoint
// answers 200, against Node's bare HTTP server and a bare Express app started the same way; and,
// when Docker and the images are there, from `docker run` until the app answers and until Docker
// reports the container healthy.
import { execFileSync, spawnSync } from 'node:child_process';
import { freePort, startServiceProcess } from '@repo/testing';
import { waitForStatus } from '../lib/http-probe.ts';
import { APPS, type App, paths } from '../lib/paths.ts';
import { type Figure, figure } from '../lib/result.ts';
import {
  BENCH_API_KEY,
  BENCH_SECRETS_KEY,
  BENCH_SIGNING_SECRET,
  type BenchData,
  createBenchData,
  startApp,
} from '../lib/stack.ts';
import { median } from '../lib/stats.ts';
import type { BenchContext, BenchOutput } from './types.ts';

const TARGET_MS = 1_000;

async function bareServer(file: string, port: number) {
  return startServiceProcess(
    `${paths.baselines}${file}`,
    { NODE_ENV: 'production', PORT: String(port), LIVE_JSON: '{"status":"ok"}' },
    { nodeArgs: [], cwd: paths.root },
  );
}

export async function startupBench(context: BenchContext): Promise<BenchOutput> {
  const runs = context.quick ? 2 : 5;
  const data = await createBenchData('startup');
  const figures: Figure[] = [];
  const notes: string[] = [];
  try {
    const baselines: Record<string, number[]> = { 'node:http': [], 'bare Express 5': [] };
    const apps: Record<App, number[]> = { api: [], worker: [], beat: [] };
    const live: Record<App, number[]> = { api: [], worker: [], beat: [] };
    for (let run = 0; run < runs; run += 1) {
      for (const [name, file] of [
        ['node:http', 'bare-http.ts'],
        ['bare Express 5', 'bare-express.ts'],
      ] as const) {
        const port = await freePort();
        const child = await bareServer(file, port);
        const started = performance.now();
        const at = await waitForStatus(`http://127.0.0.1:${port}/health/live`, { intervalMs: 2 });
        baselines[name]?.push(at - started);
        await child.stop();
      }
      for (const app of APPS) {
        const port = await freePort();
        const started = performance.now();
        const running = await startAppOn(app, data, port);
        const child = running.process;
        const gaveUp = () =>
          child.child.exitCode === null ? undefined : `exited ${child.child.exitCode}`;
        const liveAt = await waitForStatus(`${running.url}/health/live`, { intervalMs: 2, gaveUp });
        const readyAt = await waitForStatus(`${running.url}/health/ready`, {
          intervalMs: 2,
          gaveUp,
        });
        live[app].push(liveAt - started);
        apps[app].push(readyAt - started);
        await child.stop();
      }
    }
    const floor = median(baselines['node:http'] ?? []);
    for (const app of APPS) {
      figures.push(
        figure({
          subject: `${app} process`,
          metric: 'start → /health/ready 200',
          unit: 'ms',
          value: median(apps[app]),
          baseline: { name: 'node:http server', value: floor },
          target: { of: 'value', op: '<=', value: TARGET_MS },
        }),
        figure({
          subject: `${app} process`,
          metric: 'start → /health/live 200',
          unit: 'ms',
          value: median(live[app]),
          baseline: { name: 'node:http server', value: floor },
        }),
      );
      context.log(
        `  ${app}: ready ${apps[app].map((ms) => Math.round(ms)).join(', ')} ms; live ${live[app].map((ms) => Math.round(ms)).join(', ')} ms`,
      );
    }
    figures.push(
      figure({
        subject: 'bare Express 5 process',
        metric: 'start → 200',
        unit: 'ms',
        value: median(baselines['bare Express 5'] ?? []),
        baseline: { name: 'node:http server', value: floor },
      }),
    );
    notes.push(
      `Processes: median of ${runs} starts each, spawn to the first 200 (polled every 2 ms on a new connection); production builds with NODE_ENV=production, PostgreSQL and Redis local, the schema already migrated.`,
    );
    const containers = await containerStartup(context, data, context.quick ? 1 : 3);
    figures.push(...containers.figures);
    notes.push(...containers.notes);
  } finally {
    await data.drop();
  }
  return { settings: { runs }, figures, notes };
}

async function startAppOn(app: App, data: BenchData, port: number) {
  const env: Record<string, string> =
    app === 'api' ? { PORT: String(port) } : { HEALTH_PORT: String(port) };
  const running = await startApp(app, data, env);
  return { ...running, url: `http://127.0.0.1:${port}`, port };
}

function docker(args: string[]): { ok: boolean; out: string } {
  const result = spawnSync('docker', args, { encoding: 'utf8', timeout: 120_000 });
  return { ok: result.status === 0, out: `${result.stdout ?? ''}${result.stderr ?? ''}`.trim() };
}

async function containerStartup(
  context: BenchContext,
  data: BenchData,
  runs: number,
): Promise<{ figures: Figure[]; notes: string[] }> {
  if (!docker(['info', '--format', '{{.ServerVersion}}']).ok) {
    return {
      figures: [],
      notes: ['Containers: SKIPPED — no Docker engine answers `docker info`.'],
    };
  }
  const missing = APPS.filter((app) => !docker(['image', 'inspect', `jobstack-${app}:latest`]).ok);
  if (missing.length > 0) {
    return {
      figures: [],
      notes: [
        `Containers: SKIPPED — image(s) ${missing.map((a) => `jobstack-${a}:latest`).join(', ')} absent; build them with \`pnpm turbo run docker:build\`.`,
      ],
    };
  }
  const base = docker([
    'image',
    'inspect',
    '--format',
    '{{index .Config.Labels "org.opencontainers.image.base.name"}}',
    'jobstack-api:latest',
  ]).out;
  const figures: Figure[] = [];
  const baseline: number[] = [];
  const toAnswer: Record<App, number[]> = { api: [], worker: [], beat: [] };
  const toHealthy: Record<App, number[]> = { api: [], worker: [], beat: [] };
  const databaseUrl = data.database.url;
  for (let run = 0; run < runs; run += 1) {
    if (base) {
      const port = await freePort();
      const name = `bench-base-${process.pid}-${run}`;
      const started = performance.now();
      const started_ = docker([
        'run',
        '-d',
        '--rm',
        '--name',
        name,
        '--network',
        'host',
        base,
        'node',
        '-e',
        `require('node:http').createServer((q,s)=>s.end('ok')).listen(${port},'127.0.0.1')`,
      ]);
      if (started_.ok) {
        const at = await waitForStatus(`http://127.0.0.1:${port}/`, { intervalMs: 5 });
        baseline.push(at - started);
      }
      docker(['rm', '-f', name]);
    }
    for (const app of APPS) {
      const port = await freePort();
      const name = `bench-${app}-${process.pid}-${run}`;
      const env: Record<App, string[]> = {
        api: [
          '-e',
          `DATABASE_URL=${databaseUrl}`,
          '-e',
          `API_KEYS=${BENCH_API_KEY}`,
          '-e',
          `PORT=${port}`,
          '-e',
          'HOST=127.0.0.1',
        ],
        worker: [
          '-e',
          `DATABASE_URL=${databaseUrl}`,
          '-e',
          `WEBHOOK_SIGNING_SECRET=${BENCH_SIGNING_SECRET}`,
          '-e',
          `HEALTH_PORT=${port}`,
          '-e',
          'HEALTH_HOST=127.0.0.1',
        ],
        beat: [
          '-e',
          `DATABASE_URL=${databaseUrl}`,
          '-e',
          `HEALTH_PORT=${port}`,
          '-e',
          'HEALTH_HOST=127.0.0.1',
        ],
      };
      const started = performance.now();
      const run_ = docker([
        'run',
        '-d',
        '--rm',
        '--name',
        name,
        '--network',
        'host',
        '-e',
        'REDIS_URL=redis://127.0.0.1:6379',
        '-e',
        `QUEUE_PREFIX=${data.keys.prefix}`,
        // required in production by every app, as startApp sets it for the processes
        '-e',
        `WEBHOOK_SECRETS_KEY=${BENCH_SECRETS_KEY}`,
        ...env[app],
        `jobstack-${app}:latest`,
      ]);
      try {
        if (!run_.ok) throw new Error(`docker run jobstack-${app}: ${run_.out}`);
        const answered = await waitForStatus(`http://127.0.0.1:${port}/health/ready`, {
          intervalMs: 5,
          timeoutMs: 60_000,
        });
        toAnswer[app].push(answered - started);
        const deadline = performance.now() + 60_000;
        while (performance.now() < deadline) {
          const status = docker(['inspect', '--format', '{{.State.Health.Status}}', name]).out;
          if (status === 'healthy') {
            toHealthy[app].push(performance.now() - started);
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      } finally {
        docker(['rm', '-f', name]);
      }
    }
  }
  for (const app of APPS) {
    context.log(
      `  container ${app}: answers ${toAnswer[app].map(Math.round).join(', ')} ms; healthy ${toHealthy[app].map(Math.round).join(', ')} ms`,
    );
    figures.push(
      figure({
        subject: `${app} container`,
        metric: 'docker run → /health/ready 200',
        unit: 'ms',
        value: median(toAnswer[app]),
        baseline: { name: `${base} + node:http`, value: median(baseline) },
      }),
      figure({
        subject: `${app} container`,
        metric: 'docker run → healthy',
        unit: 'ms',
        value: median(toHealthy[app]),
        baseline: { name: `${base} + node:http`, value: median(baseline) },
      }),
    );
  }
  const imageId = execFileSync(
    'docker',
    ['image', 'inspect', '--format', '{{.Id}}', 'jobstack-api:latest'],
    { encoding: 'utf8' },
  ).trim();
  return {
    figures,
    notes: [
      `Containers: median of ${runs} runs of the local jobstack-<app>:latest images (api ${imageId.slice(7, 19)}), --network host against the same PostgreSQL and Redis; "healthy" is when Docker's HEALTHCHECK (start interval 2 s) first passes, so it is bounded below by that schedule. Baseline: the base image (${base}) running a node:http one-liner.`,
    ],
  };
}

// Draws the Grafana dashboard's queries over a real run, for docs/images/dashboard.png, where
// Grafana itself cannot be fetched:
//
//   pnpm turbo run build --filter @repo/api --filter @repo/worker --filter @repo/beat
//   pnpm --filter @repo/deploy-checks dashboard-picture   # needs `prometheus` and Chromium
//
// 1. runs the api, the worker and beat (production builds) on a database and queue prefix of its
//    own, with PostgreSQL and Redis as the tests use them;
// 2. runs a Prometheus (the `prometheus` on PATH) scraping them every 5 s with alerts.yml;
// 3. sends traffic for LOAD_SECONDS (default 240): echo jobs (some failing once, some for good),
//    webhooks to a local receiver (mostly 2xx, some 503, some 404), reads and unknown paths;
// 4. runs every query of grafana/dashboards/jobstack.json over the run (`query_range`) and draws
//    the results in the dashboard's layout as plain SVG line charts, captured with Chromium.
// Values, series and titles are the real query results; the styling is not Grafana's.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createTestDatabase,
  createTestRedisPrefix,
  freePort,
  type ServiceProcess,
  startServiceProcess,
  TEST_REDIS_URL,
} from '@repo/testing';
import { chromium } from 'playwright-core';
import { type Dashboard, OBSERVABILITY_DIR, readDashboard } from '../src/observability.ts';
import { repoPath } from '../src/repo.ts';

const LOAD_SECONDS = Number(process.env.LOAD_SECONDS ?? 240);
const API_KEY = 'dashboard-picture-api-key-0123456789';
const OUTPUT = repoPath('docs/images/dashboard.png');
const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function startApps(databaseUrl: string, prefix: string) {
  const [apiPort, workerPort, beatPort] = [await freePort(), await freePort(), await freePort()];
  const common = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
  };
  const start = (app: string, env: Record<string, string>) =>
    startServiceProcess(
      repoPath(`apps/${app}/dist/main.js`),
      { ...common, ...env },
      {
        nodeArgs: ['--import', repoPath(`apps/${app}/dist/tracing.js`)],
        cwd: repoPath('.'),
      },
    );
  const api = start('api', {
    DATABASE_URL: databaseUrl,
    MIGRATE_ON_START: 'true',
    API_KEYS: API_KEY,
    HOST: '127.0.0.1',
    PORT: String(apiPort),
  });
  await api.waitForHttp(`http://127.0.0.1:${apiPort}/health/ready`);
  const worker = start('worker', {
    DATABASE_URL: databaseUrl,
    WEBHOOK_SIGNING_SECRET: `whsec_${randomBytes(32).toString('base64')}`,
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    WORKER_CONCURRENCY: '8',
    HEALTH_HOST: '127.0.0.1',
    HEALTH_PORT: String(workerPort),
  });
  const beat = start('beat', { HEALTH_HOST: '127.0.0.1', HEALTH_PORT: String(beatPort) });
  await worker.waitForHttp(`http://127.0.0.1:${workerPort}/health/ready`);
  await beat.waitForHttp(`http://127.0.0.1:${beatPort}/health/ready`);
  return { processes: [api, worker, beat], apiPort, workerPort, beatPort };
}

async function startPrometheus(ports: { api: number; worker: number; beat: number }) {
  const dir = mkdtempSync(path.join(tmpdir(), 'dashboard-picture-'));
  const port = await freePort();
  const target = (job: string, p: number) =>
    `  - job_name: ${job}\n    static_configs: [{ targets: ['127.0.0.1:${p}'] }]\n`;
  writeFileSync(
    path.join(dir, 'prometheus.yml'),
    `global: { scrape_interval: 5s, evaluation_interval: 5s }\nrule_files: ['${repoPath(`${OBSERVABILITY_DIR}/alerts.yml`)}']\nscrape_configs:\n${target('api', ports.api)}${target('worker', ports.worker)}${target('beat', ports.beat)}`,
  );
  const child = spawn(
    'prometheus',
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: 'ignore' },
  );
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i += 1) {
    if (
      await fetch(`${url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    await sleep(200);
  }
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await once(child, 'exit');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startWebhookReceiver() {
  let n = 0;
  const server = createServer((req, res) => {
    req.resume();
    n += 1;
    // a few slow answers, one in six a 503 (retried), one path that is gone (404, rejected)
    const status = req.url === '/gone' ? 404 : n % 6 === 0 ? 503 : 200;
    setTimeout(() => res.writeHead(status).end(), n % 10 === 0 ? 300 : 20);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function sendTraffic(apiUrl: string, hooksUrl: string, seconds: number) {
  const headers = { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json' };
  const post = (body: unknown) =>
    fetch(`${apiUrl}/v1/jobs`, { method: 'POST', headers, body: JSON.stringify(body) })
      .then(async (r) => ((await r.json()) as { id?: string }).id)
      .catch(() => undefined);
  const until = Date.now() + seconds * 1000;
  let tick = 0;
  while (Date.now() < until) {
    tick += 1;
    // the rate rises and falls over the run, so the charts have a shape
    const burst = 4 + Math.round(4 * Math.sin(tick / 20));
    const ids = await Promise.all(
      Array.from({ length: burst }, (_, i) =>
        post({ type: 'system.echo', payload: { data: { tick, i }, delayMs: 50 + (i % 4) * 150 } }),
      ),
    );
    if (tick % 3 === 0) await post({ type: 'system.echo', payload: { failAttempts: 1 } });
    if (tick % 7 === 0) {
      await post({ type: 'system.echo', payload: { failAttempts: 5 }, maxAttempts: 2 });
    }
    if (tick % 2 === 0)
      await post({ type: 'webhook.deliver', payload: { url: `${hooksUrl}/hook`, body: { tick } } });
    if (tick % 11 === 0)
      await post({ type: 'webhook.deliver', payload: { url: `${hooksUrl}/gone`, body: {} } });
    if (tick % 13 === 0) {
      await post({
        type: 'system.echo',
        payload: {},
        runAt: new Date(Date.now() + 20_000).toISOString(),
      });
    }
    const id = ids.find(Boolean);
    if (id) await fetch(`${apiUrl}/v1/jobs/${id}`, { headers }).catch(() => undefined);
    if (tick % 5 === 0) await fetch(`${apiUrl}/no/such/path`).catch(() => undefined);
    await sleep(1000);
  }
}

interface Series {
  label: string;
  points: [number, number][];
}

async function queryPanels(dashboard: Dashboard, prometheus: string, start: number, end: number) {
  const step = 5;
  const panels: {
    title: string;
    description: string;
    unit: string;
    gridPos: unknown;
    series: Series[];
  }[] = [];
  for (const panel of dashboard.panels) {
    if (panel.type === 'row') continue;
    const series: Series[] = [];
    for (const target of panel.targets ?? []) {
      const expr = target.expr.replaceAll('$__rate_interval', '1m');
      const params = new URLSearchParams({
        query: expr,
        start: String(start),
        end: String(end),
        step: String(step),
      });
      const answer = (await (await fetch(`${prometheus}/api/v1/query_range?${params}`)).json()) as {
        data?: { result: { metric: Record<string, string>; values: [number, string][] }[] };
      };
      for (const result of answer.data?.result ?? []) {
        const format = (target as { legendFormat?: string }).legendFormat ?? '';
        const label =
          format.replace(/\{\{(\w+)\}\}/g, (_, name: string) => result.metric[name] ?? '') || expr;
        series.push({
          label,
          points: result.values
            .map(([t, v]) => [t, Number(v)] as [number, number])
            .filter(([, v]) => Number.isFinite(v)),
        });
      }
    }
    const p = panel as unknown as {
      description?: string;
      gridPos: unknown;
      fieldConfig?: { defaults?: { unit?: string } };
    };
    panels.push({
      title: panel.title,
      description: p.description ?? '',
      unit: p.fieldConfig?.defaults?.unit ?? '',
      gridPos: p.gridPos,
      series,
    });
  }
  return panels;
}

function page(panels: Awaited<ReturnType<typeof queryPanels>>, start: number, end: number): string {
  const data = JSON.stringify({ panels, start, end });
  // The page draws each panel from the query results above: an SVG polyline per series.
  return `<!doctype html><meta charset="utf-8"><title>jobstack dashboard — query results</title>
<style>
body{margin:0;background:#111217;color:#ccccdc;font:12px system-ui,sans-serif}
header{padding:10px 16px;font-size:15px;color:#fff}
header small{color:#8e8e9e;font-size:11px;margin-left:8px}
#grid{position:relative;margin:0 8px}
.panel{position:absolute;background:#181b1f;border:1px solid #2a2d33;border-radius:3px;box-sizing:border-box;padding:6px 8px;overflow:hidden}
.panel h3{margin:0 0 4px;font-size:12px;color:#fff;font-weight:600}
.legend{font-size:10px;line-height:13px;max-height:52px;overflow:hidden}
.legend span{display:inline-block;margin-right:10px;white-space:nowrap}
.empty{color:#8e8e9e;padding-top:40px;text-align:center}
</style>
<header>jobstack <small>every query of infra/observability/grafana/dashboards/jobstack.json, run against Prometheus over a real run (UTC ${new Date(start * 1000).toISOString().slice(11, 16)}–${new Date(end * 1000).toISOString().slice(11, 16)}); drawn as plain SVG, not by Grafana</small></header>
<div id="grid"></div>
<script>
const {panels,start,end}=${data};
const colors=['#73bf69','#f2cc0c','#5794f2','#ff9830','#f2495c','#b877d9','#8ab8ff','#ffb357','#96d98d','#ca95e5'];
const fmt=(v,u)=>{if(!isFinite(v))return'';if(u==='percentunit')return(v*100).toFixed(1)+'%';if(u==='bytes')return v>1e6?(v/1e6).toFixed(1)+' MB':(v/1e3).toFixed(0)+' kB';if(u==='s')return v<1?(v*1000).toFixed(v<0.01?1:0)+' ms':v.toFixed(1)+' s';return Math.abs(v)>=100?v.toFixed(0):v.toFixed(2)};
const unitW=(innerWidth-16)/24,rowH=34;
const grid=document.getElementById('grid');let maxY=0;
for(const p of panels){const g=p.gridPos;const el=document.createElement('div');el.className='panel';
el.style.left=g.x*unitW+'px';el.style.top=g.y*rowH+'px';el.style.width=g.w*unitW-6+'px';el.style.height=g.h*rowH-6+'px';maxY=Math.max(maxY,(g.y+g.h)*rowH);
const W=g.w*unitW-24,H=g.h*rowH-80;let html='<h3>'+p.title+'</h3>';
const pts=p.series.flatMap(s=>s.points.map(q=>q[1]));
if(!pts.length){html+='<div class="empty">no data</div>';el.innerHTML=html;grid.appendChild(el);continue}
const top=Math.max(...pts)*1.1||1,bottom=Math.min(0,...pts);const x=t=>40+(t-start)/(end-start)*(W-44),y=v=>6+(1-(v-bottom)/(top-bottom))*(H-12);
let svg='<svg width="'+W+'" height="'+H+'">';
for(let i=0;i<=3;i++){const v=bottom+(top-bottom)*i/3;svg+='<line x1="40" x2="'+W+'" y1="'+y(v)+'" y2="'+y(v)+'" stroke="#2a2d33"/><text x="36" y="'+(y(v)+3)+'" fill="#8e8e9e" font-size="9" text-anchor="end">'+fmt(v,p.unit)+'</text>'}
p.series.forEach((s,i)=>{svg+='<polyline fill="none" stroke-width="1.5" stroke="'+colors[i%colors.length]+'" points="'+s.points.map(q=>x(q[0]).toFixed(1)+','+y(q[1]).toFixed(1)).join(' ')+'"/>'});
svg+='</svg>';html+=svg+'<div class="legend">'+p.series.map((s,i)=>'<span style="color:'+colors[i%colors.length]+'">■</span><span>'+s.label+' '+fmt(s.points.at(-1)?.[1],p.unit)+'</span>').join('')+'</div>';
el.innerHTML=html;grid.appendChild(el)}
grid.style.height=maxY+'px';
</script>`;
}

const database = await createTestDatabase('dashboard_picture');
const keys = createTestRedisPrefix('dashboard-picture');
const hooks = await startWebhookReceiver();
let processes: ServiceProcess[] = [];
let prometheus: Awaited<ReturnType<typeof startPrometheus>> | undefined;
try {
  const apps = await startApps(database.url, keys.prefix);
  processes = apps.processes;
  prometheus = await startPrometheus({
    api: apps.apiPort,
    worker: apps.workerPort,
    beat: apps.beatPort,
  });
  log(`apps and Prometheus (${prometheus.url}) running; sending traffic for ${LOAD_SECONDS} s`);
  const start = Math.floor(Date.now() / 1000);
  await sendTraffic(`http://127.0.0.1:${apps.apiPort}`, hooks.url, LOAD_SECONDS);
  await sleep(15_000);
  const end = Math.floor(Date.now() / 1000);
  const panels = await queryPanels(readDashboard(), prometheus.url, start, end);
  log(`${panels.length} panels, ${panels.reduce((n, p) => n + p.series.length, 0)} series`);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
  });
  try {
    const tab = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await tab.setContent(page(panels, start, end));
    mkdirSync(path.dirname(OUTPUT), { recursive: true });
    await tab.screenshot({ path: OUTPUT, fullPage: true });
    log(`wrote ${OUTPUT}`);
  } finally {
    await browser.close();
  }
} finally {
  await Promise.all(processes.map((p) => p.stop()));
  await prometheus?.stop();
  hooks.server.close();
  await keys.cleanup();
  await database.drop();
}

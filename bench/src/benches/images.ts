// Images: each app's size and the size of its own layers above the base image, and build times in
// a scratch worktree of HEAD: cold (no cache), a rebuild with nothing changed, and a rebuild
// after a one-line change in apps/worker (api and beat should come entirely from the cache).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APPS, type App, paths } from '../lib/paths.ts';
import { type Figure, figure } from '../lib/result.ts';
import type { BenchContext, BenchOutput } from './types.ts';

// issue #19's targets, which infra/e2e checks too: the whole image, and what it adds above its base
const IMAGE_TARGET_MB = 200;
const OWN_LAYERS_TARGET_MB = 40;

function run(command: string, args: string[], cwd = paths.root) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 ** 2 });
  return { ok: result.status === 0, out: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

interface Inspect {
  Size: number;
  RootFS: { Layers: string[] };
  Config: { Labels?: Record<string, string> | null };
}

function inspect(ref: string): Inspect | null {
  const result = run('docker', ['image', 'inspect', ref]);
  return result.ok ? ((JSON.parse(result.out) as Inspect[])[0] ?? null) : null;
}

/** `docker build`, timed; resolves with the seconds it took and how many steps ran (not cached). */
function build(
  cwd: string,
  app: App,
  tag: string,
  extra: string[],
): Promise<{ seconds: number; stepsRun: number; stepsCached: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(
      'docker',
      [
        'build',
        '--progress=plain',
        '--file',
        `apps/${app}/Dockerfile`,
        '--build-arg',
        'VERSION=bench',
        '--tag',
        tag,
        ...extra,
        '.',
      ],
      { cwd, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let log = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      log += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      log += c;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`docker build ${app} exited ${code}\n${log.slice(-3_000)}`));
        return;
      }
      // BuildKit's plain progress: "#12 [build 4/9] RUN …" then "#12 CACHED" or "#12 DONE 3.2s"
      const steps = new Map<string, string>();
      for (const match of log.matchAll(/^#(\d+) \[[^\]]+\] (?:RUN|COPY|ADD|WORKDIR)\b/gm)) {
        steps.set(match[1] as string, 'step');
      }
      let cached = 0;
      let ran = 0;
      for (const id of steps.keys()) {
        if (new RegExp(`^#${id} CACHED`, 'm').test(log)) cached += 1;
        else ran += 1;
      }
      resolve({
        seconds: (performance.now() - started) / 1000,
        stepsRun: ran,
        stepsCached: cached,
      });
    });
  });
}

export async function imagesBench(context: BenchContext): Promise<BenchOutput> {
  const figures: Figure[] = [];
  const notes: string[] = [];
  if (!run('docker', ['info']).ok) {
    return {
      settings: {},
      figures,
      notes: ['SKIPPED — no Docker engine answers `docker info`; nothing was measured.'],
    };
  }
  const missing = APPS.filter((app) => inspect(`jobstack-${app}:latest`) === null);
  if (missing.length > 0) {
    notes.push(
      `Sizes: SKIPPED for ${missing.join(', ')} — image jobstack-<app>:latest absent (\`pnpm turbo run docker:build\` builds them).`,
    );
  }
  for (const app of APPS.filter((a) => !missing.includes(a))) {
    const image = inspect(`jobstack-${app}:latest`) as Inspect;
    const baseName = image.Config.Labels?.['org.opencontainers.image.base.name'];
    const base = baseName ? inspect(baseName) : null;
    const own = base ? image.Size - base.Size : null;
    const ownLayers = base ? image.RootFS.Layers.length - base.RootFS.Layers.length : null;
    context.log(
      `  ${app}: ${(image.Size / 1e6).toFixed(1)} MB, own ${own === null ? '?' : (own / 1e6).toFixed(1)} MB in ${ownLayers} layers`,
    );
    figures.push(
      figure({
        subject: `jobstack-${app}`,
        metric: 'image size',
        unit: 'MB',
        value: image.Size / 1e6,
        baseline: { name: baseName ?? 'base', value: base ? base.Size / 1e6 : null },
        target: { of: 'value', op: '<=', value: IMAGE_TARGET_MB },
      }),
      figure({
        subject: `jobstack-${app}`,
        metric: `own layers (${ownLayers ?? '?'})`,
        unit: 'MB',
        value: own === null ? null : own / 1e6,
        target: { of: 'value', op: '<=', value: OWN_LAYERS_TARGET_MB },
      }),
    );
  }
  notes.push(
    'Sizes are uncompressed, as `docker image inspect` reports them, of the local jobstack-<app>:latest images; own layers = the image minus its base (label org.opencontainers.image.base.name: the Dockerfiles’ trimmed, flattened runtime-base stage, which `docker:build` tags jobstack-<app>:runtime-base); targets, also the e2e test’s budgets: at most 200 MB per image and 40 MB of own layers.',
  );

  if (context.quick) {
    notes.push('Build times: not measured in a quick run.');
    return { settings: {}, figures, notes };
  }
  const scratch = mkdtempSync(join(tmpdir(), 'jobstack-bench-build-'));
  const worktree = join(scratch, 'repo');
  const tags = APPS.map((app) => `jobstack-bench-${app}:${process.pid}`);
  try {
    const added = run('git', ['worktree', 'add', '--detach', worktree, 'HEAD']);
    if (!added.ok) throw new Error(`git worktree add: ${added.out}`);
    const revision = run('git', ['rev-parse', '--short=12', 'HEAD']).out.trim();
    const cold: Record<string, number> = {};
    for (const [i, app] of APPS.entries()) {
      context.log(`  cold build of ${app} (no cache)…`);
      cold[app] = (await build(worktree, app, tags[i] as string, ['--no-cache'])).seconds;
    }
    const unchanged: Record<string, number> = {};
    for (const [i, app] of APPS.entries()) {
      unchanged[app] = (await build(worktree, app, tags[i] as string, [])).seconds;
    }
    const main = join(worktree, 'apps/worker/src/main.ts');
    writeFileSync(
      main,
      `${readFileSync(main, 'utf8')}// one-line change for the rebuild benchmark\n`,
    );
    const changed: Record<string, { seconds: number; stepsRun: number; stepsCached: number }> = {};
    for (const [i, app] of APPS.entries()) {
      changed[app] = await build(worktree, app, tags[i] as string, []);
    }
    for (const app of APPS) {
      const after = changed[app];
      context.log(
        `  ${app}: cold ${cold[app]?.toFixed(0)} s, unchanged ${unchanged[app]?.toFixed(1)} s, after the worker change ${after?.seconds.toFixed(1)} s (${after?.stepsRun} steps ran, ${after?.stepsCached} cached)`,
      );
      figures.push(
        figure({
          subject: `jobstack-${app}`,
          metric: 'cold build (no cache)',
          unit: 's',
          value: cold[app] ?? null,
        }),
        figure({
          subject: `jobstack-${app}`,
          metric: `rebuild after a one-line change in apps/worker (${after?.stepsRun ?? '?'} steps ran)`,
          unit: 's',
          value: after?.seconds ?? null,
          baseline: { name: 'rebuild with nothing changed', value: unchanged[app] ?? null },
        }),
      );
    }
    notes.push(
      `Build times: \`docker build\` of each app in turn in a scratch git worktree of ${revision} (uncommitted changes are not in it), tagged jobstack-bench-* and removed afterwards. Cold = --no-cache (every stage, including installing pnpm and the dependencies from the registry); the rebuilds use BuildKit's cache, on an engine other builds share.`,
    );
  } finally {
    for (const tag of tags) run('docker', ['image', 'rm', '--force', tag]);
    run('git', ['worktree', 'remove', '--force', worktree]);
    rmSync(scratch, { recursive: true, force: true });
  }
  return { settings: {}, figures, notes };
}

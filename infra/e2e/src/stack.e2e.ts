// The images and the compose stack, end to end (`pnpm test:e2e`; CI runs it on every submission):
//   1. builds jobstack-{api,worker,beat} with `pnpm turbo run docker:build`, as users do;
//   2. checks each image: labels, non-root user, HEALTHCHECK, own layers within budget, no .env
//      file or secret in any layer or in the history;
//   3. runs infra/compose.yaml + infra/compose.test.yaml with secrets from infra/generate-secrets.sh:
//      `run --rm migrate`, then `up` with three workers (WORKER_REPLICAS), waits until every
//      service is healthy, posts a job through the proxy, sees a worker finish it in PostgreSQL,
//      sees beat's maintenance.reconcile schedule run, checks the apps' least-privilege role and
//      Redis's password, upgrades the worker and the api with infra/rollout.sh while POSTs run (no
//      failed POST, no lost job, nothing else recreated, and a plain `up` afterwards keeps the
//      new containers), runs the backup/restore drill of
//      docs/operations.md, then `docker compose stop` and checks each app exits 0 within 10 s;
//      tears the stack down (down -v);
//   4. checks layer caching in a scratch copy of the working tree: a second docker:build is fully
//      cached, the build context keeps secrets and installs out, and after touching only
//      apps/worker (or adding another app's dependency) api and beat rebuild entirely from cache.
// It needs a Docker engine with compose v2. Base images that are missing are provisioned with the
// provisioning script beside the checkout when there is one (CI machines have no registry), else pulled.

import { randomUUID } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createJobstackClient } from '@repo/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stepsThatRan } from './buildkit-log.ts';
import {
  Compose,
  exportBuildContext,
  type ImageInspect,
  imageExists,
  inspectContainer,
  inspectImage,
  megabytes,
  type OwnLayers,
  ownLayers,
  scanImageLayers,
} from './docker.ts';
import { readEnvFile } from './env-file.ts';
import { describeCommand, run, runStreaming, waitFor } from './process.ts';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const APPS = ['api', 'worker', 'beat'] as const;
type App = (typeof APPS)[number];
/**
 * Issue #19's budgets (uncompressed, as `docker image inspect` counts): what an app may add above
 * its base (the Dockerfiles' trimmed runtime-base, which docker:build tags), and the whole image.
 * Each app is bundled with esbuild (tooling/docker/bundle-app.mjs); BENCHMARKS.md has the sizes.
 */
const OWN_LAYERS_BUDGET_BYTES = 40e6;
const IMAGE_BUDGET_BYTES = 200e6;
const STOP_LIMIT_MS = 10_000;
const WORKERS = 3;

const report = (line = '') => process.stdout.write(`${line}\n`);
const repoPath = (...parts: string[]) => join(repoRoot, ...parts);
const git = (...args: string[]) => run('git', args, { cwd: repoRoot }).stdout.trim();
const appVersion = (app: App) =>
  (JSON.parse(readFileSync(repoPath('apps', app, 'package.json'), 'utf8')) as { version: string })
    .version;

const revision = git('rev-parse', 'HEAD');
const shortRevision = git('rev-parse', '--short=12', 'HEAD');
const imageRef = (app: App, tag = shortRevision) => `jobstack-${app}:${tag}`;

/** Only what docker, compose, git and pnpm need: the shell's own variables must not leak in. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (
      /^(PATH|HOME|USER|TMPDIR|LANG|LC_\w+|TERM|XDG_\w+|DOCKER_\w+|BUILDKIT_\w+|BUILDX_\w+)$/.test(
        key,
      )
    ) {
      env[key] = value;
    }
  }
  return { ...env, ...extra };
}

const testEnvFile = repoPath('infra/compose.test.env');
// the stack's secrets, as operators make them (removed with the stack)
const secretsDir = join(mkdtempSync(join(tmpdir(), 'jobstack-e2e-secrets-')), 'secrets');
run(repoPath('infra/generate-secrets.sh'), [secretsDir]);
const secretFile = (name: string) => readFileSync(join(secretsDir, name), 'utf8').trim();
/** The tag the upgrade moves the api and the worker to: the same build under a new name. */
const upgradeTag = `${shortRevision}-upgrade`;
const composeEnv = (imageTag: string) =>
  cleanEnv({
    // the images this run built; the proxy keeps its own tag through the app upgrade
    IMAGE_TAG: imageTag,
    PROXY_IMAGE_TAG: shortRevision,
    // any free port on 127.0.0.1
    API_PORT: '',
    SECRETS_DIR: secretsDir,
    WORKER_REPLICAS: String(WORKERS),
  });
const compose = new Compose({
  project: `jobstack-e2e-${process.pid}`,
  files: [repoPath('infra/compose.yaml'), repoPath('infra/compose.test.yaml')],
  envFile: testEnvFile,
  cwd: repoRoot,
  env: composeEnv(shortRevision),
});

/**
 * Strings that must never appear in an image: every secret the test or a developer uses. The
 * placeholders of .env.development are not among them: they are published, and the images carry
 * them on purpose so that production can refuse them (packages/config's published-secret-values);
 * a copied .env file is caught by its name instead.
 */
function secretValues(): string[] {
  const secretsOf = (file: string) =>
    existsSync(file)
      ? [...readEnvFile(file)]
          .filter(([key, value]) => /PASSWORD|SECRET|TOKEN|KEY/.test(key) && value.length >= 8)
          .flatMap(([, value]) => value.split(','))
          .filter((part) => part.length >= 8)
      : [];
  const published = new Set(secretsOf(repoPath('.env.development')));
  const values = new Set<string>();
  for (const file of ['.env', 'infra/.env']) {
    for (const value of secretsOf(repoPath(file))) if (!published.has(value)) values.add(value);
  }
  for (const name of [
    'api_keys',
    'metrics_token',
    'webhook_signing_secret',
    'webhook_secrets_key',
    'redis_password',
  ]) {
    values.add(secretFile(name));
  }
  return [...values];
}

function provisionScript(): string | undefined {
  return [process.env.DOCKER_PROVISION_SCRIPT, repoPath('../shared/docker/provision.sh')]
    .filter((p): p is string => Boolean(p))
    .find((p) => existsSync(p));
}

/**
 * The services of the profile `observability` this test starts: Prometheus, to scrape the stack.
 * (Not Grafana: no registry or stand-in serves it here; its files are checked statically.)
 */
const OBSERVABILITY_SERVICES = ['prometheus'];

/** Base images of the Dockerfiles and the images compose runs that no service of it builds. */
function requiredImages(): string[] {
  const refs = new Set<string>();
  for (const app of APPS) {
    const base = /^ARG NODE_IMAGE=(\S+)/m.exec(
      readFileSync(repoPath('apps', app, 'Dockerfile'), 'utf8'),
    )?.[1];
    if (!base) throw new Error(`apps/${app}/Dockerfile has no ARG NODE_IMAGE=<default>`);
    refs.add(base);
  }
  const config = JSON.parse(
    compose.run(['--profile', 'observability', 'config', '--format', 'json']).stdout,
  ) as {
    services: Record<string, { image?: string; build?: unknown; profiles?: string[] }>;
  };
  const services = Object.entries(config.services)
    .filter(([name, s]) => !s.profiles || OBSERVABILITY_SERVICES.includes(name))
    .map(([, s]) => s);
  // migrate runs the image the api service builds
  const built = new Set(services.filter((s) => s.build).map((s) => s.image));
  for (const service of services) {
    if (service.image && !service.build && !built.has(service.image)) refs.add(service.image);
  }
  return [...refs];
}

async function ensureImages(refs: readonly string[]): Promise<void> {
  const missing = refs.filter((ref) => !imageExists(ref));
  if (missing.length === 0) return;
  const script = provisionScript();
  if (script) {
    report(`provisioning ${missing.join(', ')} with ${script}`);
    await runStreaming(script, ['images', ...missing], { timeoutMs: 15 * 60_000 });
  } else {
    for (const ref of missing)
      await runStreaming('docker', ['pull', ref], { timeoutMs: 10 * 60_000 });
  }
}

interface BuildTimes {
  totalMs: number;
  perApp: Partial<Record<App, number>>;
}

/** `pnpm turbo run docker:build`, timed per app from turbo's run summary. */
async function dockerBuildWithTurbo(): Promise<BuildTimes> {
  // a failing build prints its whole log; successful ones only their timings (below)
  const result = await runStreaming(
    'pnpm',
    ['turbo', 'run', 'docker:build', '--summarize', '--output-logs=errors-only'],
    {
      cwd: repoRoot,
      env: cleanEnv({ TURBO_TELEMETRY_DISABLED: '1', TURBO_UI: 'false' }),
    },
  );
  const perApp: BuildTimes['perApp'] = {};
  const summaryPath = /Summary:\s+(\S+\.json)/.exec(result.stdout)?.[1];
  if (summaryPath && existsSync(summaryPath)) {
    const summary = JSON.parse(readFileSync(summaryPath, 'utf8')) as {
      tasks?: { taskId: string; execution?: { startTime: number; endTime: number } }[];
    };
    for (const task of summary.tasks ?? []) {
      const app = APPS.find((a) => task.taskId === `@repo/${a}#docker:build`);
      if (app && task.execution) perApp[app] = task.execution.endTime - task.execution.startTime;
    }
    rmSync(summaryPath, { force: true });
  }
  return { totalMs: result.durationMs, perApp };
}

const seconds = (ms: number | undefined) =>
  ms === undefined ? '?' : `${(ms / 1000).toFixed(1)} s`;

const facts = new Map<App, { image: ImageInspect; own: OwnLayers }>();
const timings: Record<string, string> = {};

describe('jobstack images and compose stack', () => {
  beforeAll(async () => {
    const engine = run('docker', ['info', '--format', '{{.ServerVersion}}'], {
      allowFailure: true,
    });
    if (engine.status !== 0) {
      throw new Error(
        `No Docker engine answers \`docker info\`: ${engine.stderr.trim()}\n` +
          'Start Docker (on this project’s CI machines: sudo ../shared/docker/provision.sh engine).',
      );
    }
    report(
      `docker engine ${engine.stdout.trim()}, compose ${run('docker', ['compose', 'version', '--short']).stdout.trim()}`,
    );
    await ensureImages(requiredImages());

    const build = await dockerBuildWithTurbo();
    timings['docker:build (first run)'] =
      `${seconds(build.totalMs)} total; ${APPS.map((a) => `${a} ${seconds(build.perApp[a])}`).join(', ')}`;
    for (const app of APPS) {
      const image = inspectImage(imageRef(app));
      facts.set(app, { image, own: ownLayers(image) });
    }
  });

  afterAll(() => {
    report();
    report(
      `${'image'.padEnd(30)} ${'size'.padEnd(10)} ${'base'.padEnd(10)} own layers (budget ${megabytes(OWN_LAYERS_BUDGET_BYTES)})`,
    );
    for (const [app, { image, own }] of facts) {
      report(
        `${imageRef(app).padEnd(30)} ${megabytes(image.Size).padEnd(10)} ${megabytes(own.baseSize).padEnd(10)} ${megabytes(own.ownBytes).padEnd(11)} in ${own.ownLayers} layers above ${own.base}`,
      );
    }
    for (const [what, value] of Object.entries(timings)) report(`${what}: ${value}`);
    report();
  });

  describe('images', () => {
    it.each(APPS)(
      'jobstack-%s: tags, OCI labels, non-root user, HEALTHCHECK, exec-form CMD',
      (app) => {
        const image = facts.get(app)?.image;
        if (!image) throw new Error(`no image for ${app}`);
        for (const tag of ['latest', appVersion(app), shortRevision]) {
          expect(inspectImage(imageRef(app, tag)).Id, `jobstack-${app}:${tag}`).toBe(image.Id);
        }
        expect(image.Config.Labels).toMatchObject({
          'org.opencontainers.image.title': `jobstack-${app}`,
          'org.opencontainers.image.version': appVersion(app),
          'org.opencontainers.image.revision': revision,
        });
        expect(image.Config.User, 'USER').toMatch(
          /^[1-9]\d*(:\d+)?$|^(?!root)[a-z_][\w-]*(:\w+)?$/,
        );
        expect(image.Config.Env).toContain('NODE_ENV=production');
        expect(image.Config.Cmd).toEqual(['node', '--import', './dist/tracing.js', 'dist/main.js']);
        expect(image.Config.Entrypoint ?? null).toBeNull();
        expect(image.Config.Healthcheck?.Test).toEqual(['CMD', 'node', 'dist/healthcheck.js']);
      },
    );

    it.each(APPS)(
      `jobstack-%s: its own layers stay within ${megabytes(OWN_LAYERS_BUDGET_BYTES)}, the whole image within ${megabytes(IMAGE_BUDGET_BYTES)}`,
      (app) => {
        const own = facts.get(app)?.own;
        if (!own) throw new Error(`no image for ${app}`);
        expect(
          own.ownBytes,
          `${app} adds ${megabytes(own.ownBytes)} above ${own.base}`,
        ).toBeLessThanOrEqual(OWN_LAYERS_BUDGET_BYTES);
        expect(
          own.baseSize + own.ownBytes,
          `${app}'s whole image (budget ${megabytes(IMAGE_BUDGET_BYTES)})`,
        ).toBeLessThanOrEqual(IMAGE_BUDGET_BYTES);
      },
    );

    it('no image holds a .env file or a secret in any layer or in its history', () => {
      const needles = secretValues();
      expect(needles.length, 'secret values to look for').toBeGreaterThan(0);
      const work = mkdtempSync(join(tmpdir(), 'jobstack-e2e-layers-'));
      try {
        const problems: string[] = [];
        for (const app of APPS) {
          const ref = imageRef(app);
          const history = run('docker', [
            'history',
            '--no-trunc',
            '--format',
            '{{.CreatedBy}}',
            ref,
          ]).stdout;
          if (/(^|[\s/])\.env\b/.test(history))
            problems.push(`${ref}: the history mentions a .env file`);
          for (const needle of needles) {
            if (history.includes(needle)) problems.push(`${ref}: the history contains "${needle}"`);
          }
          for (const { layer, what } of scanImageLayers(ref, needles, work)) {
            problems.push(`${ref}: layer ${layer} holds ${what}`);
          }
        }
        expect(problems).toEqual([]);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    });
  });

  describe('stack (infra/compose.yaml + compose.test.yaml)', () => {
    let api = '';
    let apiKey = '';

    let migrateStatus = -1;

    beforeAll(() => {
      apiKey = secretFile('api_keys').split(',')[0] ?? '';
      const build = compose.run(['build', 'proxy'], { allowFailure: true, timeoutMs: 10 * 60_000 });
      timings['compose build proxy'] = seconds(build.durationMs);
      if (build.status !== 0)
        throw new Error(`docker compose build proxy failed:\n${build.stderr}`);
      // the documented order: migrations as a step of their own, then the apps
      const migrate = compose.run(['run', '--rm', 'migrate'], {
        allowFailure: true,
        timeoutMs: 5 * 60_000,
      });
      migrateStatus = migrate.status;
      timings['compose run --rm migrate'] = seconds(migrate.durationMs);
      if (migrate.status !== 0) {
        throw new Error(
          `docker compose run --rm migrate failed:\n${migrate.stderr}\n${migrate.stdout}`,
        );
      }
      const up = compose.run(['up', '--detach', '--wait', '--wait-timeout', '180'], {
        allowFailure: true,
        timeoutMs: 5 * 60_000,
      });
      timings['compose up --wait'] = seconds(up.durationMs);
      if (up.status !== 0) {
        throw new Error(`docker compose up --wait failed:\n${up.stderr}\n${compose.diagnostics()}`);
      }
      api = `http://${compose.port('proxy', 8000)}`;
    }, 15 * 60_000);

    afterAll(() => {
      compose.run(['down', '--volumes', '--remove-orphans', '--timeout', '5'], {
        allowFailure: true,
      });
      rmSync(dirname(secretsDir), { recursive: true, force: true });
      for (const app of ['api', 'worker'] as const) {
        run('docker', ['image', 'rm', imageRef(app, upgradeTag)], { allowFailure: true });
      }
    });

    it(`runs postgres, redis, proxy, api, ${WORKERS} workers (WORKER_REPLICAS) and beat healthy, after migrate exited 0`, () => {
      expect(migrateStatus, 'docker compose run --rm migrate').toBe(0);
      const containers = compose.containers();
      const byService = (s: string) => containers.filter((c) => c.Service === s);
      for (const service of ['postgres', 'redis', 'proxy', 'api', 'worker', 'beat']) {
        const running = byService(service);
        expect(running.length, `${service} containers`).toBe(service === 'worker' ? WORKERS : 1);
        for (const c of running) {
          expect(`${c.Name} ${c.State} ${c.Health}`).toBe(`${c.Name} running healthy`);
        }
      }
      // a one-off that `up` never starts
      expect(byService('migrate')).toEqual([]);
    });

    it('connects the apps as the least-privilege role, which cannot DROP or ALTER, and Redis only with its password', async () => {
      // the roles of both apps' connections (their health checks keep one open)
      const sessions = await waitFor(
        'the api and the worker connected to PostgreSQL',
        () => {
          const found = compose.psql(
            "select string_agg(distinct application_name || ':' || usename, ',' order by application_name || ':' || usename) from pg_stat_activity where application_name in ('api', 'worker')",
          );
          return found.includes('api:') && found.includes('worker:') ? found : undefined;
        },
        { timeoutMs: 60_000 },
      );
      expect(sessions).toBe('api:jobstack_app,worker:jobstack_app');
      const asApp = (sql: string) =>
        compose.run(
          ['exec', '-T', 'postgres', 'psql', '-U', 'jobstack_app', '-d', 'jobstack', '-tAc', sql],
          { allowFailure: true },
        );
      expect(asApp('select count(*) >= 0 from jobs').stdout.trim()).toBe('t');
      for (const sql of ['drop table jobs', 'alter table jobs add column x int']) {
        const refused = asApp(sql);
        expect(refused.status, sql).not.toBe(0);
        expect(refused.stderr, sql).toMatch(/must be owner of table jobs/);
      }
      const anonymous = compose.run(['exec', '-T', 'redis', 'redis-cli', 'ping'], {
        allowFailure: true,
      });
      expect(anonymous.stdout + anonymous.stderr).toMatch(/NOAUTH/);
    });

    it('runs every app process as a non-root user', () => {
      for (const c of compose.containers().filter((c) => APPS.includes(c.Service as App))) {
        const uid = run('docker', [
          'exec',
          c.ID,
          'node',
          '-e',
          'process.stdout.write(String(process.getuid()))',
        ]).stdout;
        expect(uid, `${c.Name} uid`).not.toBe('0');
        expect(inspectContainer(c.ID).Config.User, `${c.Name} user`).not.toMatch(
          /^(root|0)(:|$)|^$/,
        );
      }
    });

    it('answers 401 without an API key', async () => {
      const response = await fetch(`${api}/v1/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'system.echo', payload: {} }),
      });
      expect(response.status).toBe(401);
    });

    it('runs a job posted through the api on a worker and records it in PostgreSQL', async () => {
      const jobstack = createJobstackClient({ baseUrl: api, apiKey });
      const marker = `e2e-${Date.now()}`;
      const { id } = await jobstack.createJob({
        type: 'system.echo',
        payload: { data: { marker } },
      });
      expect(id).toMatch(/^[0-9a-f-]{36}$/);

      const row = await waitFor(
        `job ${id} to succeed in PostgreSQL`,
        () => {
          const line = compose.psql(`select status, result::text from jobs where id = '${id}'`);
          return line.startsWith('succeeded|') ? line : undefined;
        },
        { timeoutMs: 60_000 },
        () =>
          `${compose.psql(`select status, attempts, error from jobs where id = '${id}'`)}\n${compose.diagnostics()}`,
      );
      expect(row).toContain(marker);

      expect((await jobstack.getJob(id)).status).toBe('succeeded');
    });

    it("runs beat's maintenance.reconcile schedule on a worker", async () => {
      const runs = await waitFor(
        'a maintenance.reconcile run from its schedule to succeed',
        () => {
          const count = Number(
            compose.psql(
              "select count(*) from jobs where type = 'maintenance.reconcile' and scheduler_id = 'maintenance.reconcile' and status = 'succeeded'",
            ),
          );
          return count > 0 ? count : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 2_000 },
        () =>
          `${compose.psql('select type, status, scheduler_id, error from jobs order by created_at')}\n${compose.diagnostics()}`,
      );
      expect(runs).toBeGreaterThan(0);
    });

    it('is scraped by Prometheus (profile observability): api, every worker and beat up, the job counted', async () => {
      const up = compose.run(['up', '--detach', ...OBSERVABILITY_SERVICES], {
        allowFailure: true,
        timeoutMs: 2 * 60_000,
      });
      timings['prometheus up'] = seconds(up.durationMs);
      if (up.status !== 0) throw new Error(`prometheus did not start:\n${up.stderr}`);
      const prometheus = `http://${compose.port('prometheus', 9090)}`;
      const ask = async <T>(path: string): Promise<T | undefined> => {
        const response = await fetch(`${prometheus}${path}`).catch(() => undefined);
        return response?.ok ? ((await response.json()) as { data: T }).data : undefined;
      };

      // the first scrape comes within one scrape_interval (15 s) of the targets being found
      const targets = await waitFor(
        'Prometheus to scrape the api, every worker and beat',
        async () => {
          const data = await ask<{ activeTargets: { labels: { job: string }; health: string }[] }>(
            '/api/v1/targets?state=active',
          );
          const upIn = (job: string) =>
            data?.activeTargets.filter((t) => t.labels.job === job && t.health === 'up').length;
          return upIn('api') === 1 && upIn('worker') === WORKERS && upIn('beat') === 1
            ? data?.activeTargets
            : undefined;
        },
        { timeoutMs: 60_000 },
        () => compose.diagnostics(),
      );
      expect(targets?.length).toBeGreaterThanOrEqual(2 + WORKERS);

      // the system.echo job of the test above, counted by the worker that ran it
      const query = encodeURIComponent(
        'sum(jobstack_jobs_total{type="system.echo",outcome="succeeded"})',
      );
      const counted = await waitFor(
        'jobstack_jobs_total to count the system.echo job',
        async () => {
          const data = await ask<{ result: { value: [number, string] }[] }>(
            `/api/v1/query?query=${query}`,
          );
          const value = Number(data?.result[0]?.value[1] ?? 0);
          return value >= 1 ? value : undefined;
        },
        { timeoutMs: 30_000 },
      );
      expect(counted).toBeGreaterThanOrEqual(1);
    });

    it(
      'upgrades the worker, then the api, with infra/rollout.sh while POSTs run: none fails, no job is lost, nothing else is recreated',
      async () => {
        // the new version: this run's images under another tag, which only the new containers use
        for (const app of APPS) run('docker', ['tag', imageRef(app), imageRef(app, upgradeTag)]);
        const upgraded = new Compose({ ...compose.options, env: composeEnv(upgradeTag) });
        const running = (service: string) =>
          compose
            .containers()
            .filter((c) => c.Service === service && c.State === 'running')
            .map((c) => c.ID)
            .sort();
        const startedAt = (id: string) => inspectContainer(id).State.StartedAt;
        const untouched = ['postgres', 'redis', 'proxy', 'beat'].map((service) => {
          const [id = ''] = running(service);
          return { service, id, startedAt: startedAt(id) };
        });
        const oldWorkers = running('worker');
        const oldApi = running('api');

        // jobs that outlast the worker's drain start: its old containers must finish them
        // no retries: a POST the rollout fails must show as a failure, not be retried away
        const jobstack = createJobstackClient({ baseUrl: api, apiKey, retry: { maxAttempts: 1 } });
        const post = (payload: { data: { marker: string }; delayMs: number }) =>
          jobstack.createJob({ type: 'system.echo', payload });
        const marker = `upgrade-${Date.now()}`;
        const longJobs: string[] = [];
        for (let i = 0; i < 3; i += 1) {
          longJobs.push((await post({ data: { marker: `${marker}-long` }, delayMs: 15_000 })).id);
        }

        const failures: string[] = [];
        let posted = 0;
        let posting = true;
        const poster = async () => {
          while (posting) {
            try {
              await post({ data: { marker }, delayMs: 100 });
              posted += 1;
            } catch (error) {
              failures.push(
                `${error instanceof Error ? `${error.message} ${String(error.cause)}` : error}`,
              );
            }
          }
        };
        const posters = [poster(), poster()];
        const rollout = (service: string) =>
          runStreaming(repoPath('infra/rollout.sh'), [...compose.args([service]).slice(1)], {
            cwd: repoRoot,
            env: upgraded.options.env,
            timeoutMs: 5 * 60_000,
          });
        try {
          timings['rollout worker'] = seconds((await rollout('worker')).durationMs);
          timings['rollout api'] = seconds((await rollout('api')).durationMs);
        } finally {
          posting = false;
          await Promise.all(posters);
        }
        report(`upgrade: ${posted} POSTs while the worker and the api were replaced`);
        expect(failures).toEqual([]);
        expect(posted).toBeGreaterThan(0);

        const newWorkers = running('worker');
        const newApi = running('api');
        expect(newWorkers).toHaveLength(WORKERS);
        expect(newWorkers.filter((id) => oldWorkers.includes(id))).toEqual([]);
        expect(newApi).toHaveLength(1);
        expect(newApi.filter((id) => oldApi.includes(id))).toEqual([]);
        for (const id of [...newWorkers, ...newApi]) {
          expect(
            run('docker', ['inspect', '--format', '{{.Config.Image}}', id]).stdout.trim(),
          ).toMatch(new RegExp(`:${upgradeTag}$`));
        }
        for (const { service, id, startedAt: before } of untouched) {
          expect(`${service} ${running(service).join(',')} ${startedAt(id)}`).toBe(
            `${service} ${id} ${before}`,
          );
        }

        // every job posted ran once; the long ones finished on the old workers, on their first attempt
        const count = (where: string) =>
          Number(compose.psql(`select count(*) from jobs where ${where}`));
        await waitFor(
          `the ${posted} jobs posted during the upgrade to succeed`,
          () =>
            count(`payload->'data'->>'marker' = '${marker}' and status = 'succeeded'`) === posted
              ? true
              : undefined,
          { timeoutMs: 120_000 },
          () =>
            compose.psql(
              `select status, count(*) from jobs where payload->'data'->>'marker' = '${marker}' group by 1`,
            ),
        );
        expect(count(`payload->'data'->>'marker' = '${marker}'`)).toBe(posted);
        const long = compose.psql(
          `select status || ' ' || attempts || ' ' || worker_id from jobs where id in (${longJobs.map((id) => `'${id}'`).join(',')})`,
        );
        for (const line of long.split('\n')) {
          const [status, attempts, worker = ''] = line.split(' ');
          expect(`${status} ${attempts}`).toBe('succeeded 1');
          expect(oldWorkers.some((id) => id.startsWith(worker))).toBe(true);
        }

        // a plain `up` with the new tag updates beat and leaves PostgreSQL, Redis and the proxy
        // alone (no app depends on migrate), and the api and workers infra/rollout.sh started
        // too: they already run what compose resolves now (the same config-hash label)
        const up = upgraded.run(['up', '--detach', '--wait', '--wait-timeout', '120'], {
          allowFailure: true,
        });
        expect(up.status, up.stderr).toBe(0);
        expect(running('worker')).toEqual(newWorkers);
        expect(running('api')).toEqual(newApi);
        for (const { service, id } of untouched) {
          if (service === 'beat') expect(running('beat')).not.toEqual([id]);
          else expect(running(service), service).toEqual([id]);
        }
      },
      15 * 60_000,
    );

    it('backup and restore drill (docs/operations.md): pg_dump -Fc through the compose service, pg_restore into a fresh database, the same rows', () => {
      const dc = describeCommand('docker', compose.args([]));
      const dump = join(dirname(secretsDir), 'jobstack.dump');
      const shell = (command: string) =>
        run('bash', ['-c', command], { cwd: repoRoot, env: compose.options.env });
      const dumpStarted = compose.psql('select now()');
      shell(
        `${dc} exec -T postgres sh -c 'pg_dump -Fc -U "$POSTGRES_USER" -d "$POSTGRES_DB"' > ${dump}`,
      );
      expect(readFileSync(dump).subarray(0, 5).toString()).toBe('PGDMP');
      compose.psql('create database jobstack_restore');
      shell(
        `${dc} exec -T postgres sh -c 'pg_restore --no-owner --role="$POSTGRES_USER" -U "$POSTGRES_USER" -d jobstack_restore' < ${dump}`,
      );
      // rows that cannot change any more: finished before the dump
      const fingerprint = (database: string) =>
        compose
          .run([
            'exec',
            '-T',
            'postgres',
            'psql',
            '-U',
            'jobstack',
            '-d',
            database,
            '-tAc',
            `select count(*) || ' ' || md5(coalesce(string_agg(id::text || status || attempts || coalesce(result::text, ''), ',' order by id), ''))
               from jobs where finished_at < '${dumpStarted}'
             union all
             select string_agg(migration_name, ',' order by migration_name) from _prisma_migrations`,
          ])
          .stdout.trim();
      const live = fingerprint('jobstack');
      expect(Number(live.split(' ')[0])).toBeGreaterThan(0);
      expect(fingerprint('jobstack_restore')).toBe(live);
    });

    it('docker compose stop: every app container exits 0 within 10 s', () => {
      const apps = compose.containers().filter((c) => APPS.includes(c.Service as App));
      expect(apps.length).toBe(2 + WORKERS);
      const stopRequested = Date.now();
      const stop = compose.run(['stop'], { timeoutMs: 2 * 60_000 });
      timings['compose stop'] = seconds(stop.durationMs);
      const problems: string[] = [];
      for (const c of apps) {
        const { State } = inspectContainer(c.ID);
        const tookMs = Date.parse(State.FinishedAt) - stopRequested;
        if (State.Status !== 'exited' || State.ExitCode !== 0 || State.OOMKilled) {
          problems.push(
            `${c.Name}: ${State.Status}, exit code ${State.ExitCode}${State.OOMKilled ? ', OOM-killed' : ''}`,
          );
        }
        if (tookMs > STOP_LIMIT_MS) problems.push(`${c.Name}: took ${seconds(tookMs)} to stop`);
      }
      if (problems.length > 0) report(compose.diagnostics());
      expect(problems).toEqual([]);
    });
  });

  describe('layer caching', () => {
    let scratch = '';
    const scratchRef = (app: App, round: string) => `jobstack-e2e-cache-${app}:${round}`;
    const scratchImages: string[] = [];

    /** Builds an app's image from the scratch copy; returns its layers and the build log. */
    function buildScratch(app: App, round: string) {
      const ref = scratchRef(app, round);
      scratchImages.push(ref);
      const result = run(
        'docker',
        ['build', '--progress=plain', '--file', `apps/${app}/Dockerfile`, '--tag', ref, '.'],
        { cwd: scratch, env: cleanEnv(), timeoutMs: 15 * 60_000 },
      );
      return {
        layers: inspectImage(ref).RootFS.Layers,
        log: result.stderr + result.stdout,
        durationMs: result.durationMs,
      };
    }

    beforeAll(() => {
      // the working tree as git sees it (tracked and untracked, not ignored), without .git
      scratch = mkdtempSync(join(tmpdir(), 'jobstack-e2e-tree-'));
      const files = run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
        cwd: repoRoot,
      })
        .stdout.split('\0')
        .filter((f) => f !== '' && existsSync(repoPath(f)));
      for (const file of files) {
        mkdirSync(dirname(join(scratch, file)), { recursive: true });
        copyFileSync(repoPath(file), join(scratch, file));
      }
    });

    afterAll(() => {
      if (scratchImages.length)
        run('docker', ['image', 'rm', ...scratchImages], { allowFailure: true });
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    });

    it('a second `turbo run docker:build` rebuilds nothing', async () => {
      const build = await dockerBuildWithTurbo();
      timings['docker:build (warm, nothing changed)'] = seconds(build.totalMs);
      for (const app of APPS) {
        expect(inspectImage(imageRef(app)).Id, app).toBe(facts.get(app)?.image.Id);
      }
    });

    it('the build context leaves out .env files, installs, build output and VCS data', () => {
      const planted = [
        '.env',
        'apps/api/.env.production',
        'node_modules/left-pad/index.js',
        'apps/worker/dist/main.js',
        'packages/db/src/generated/prisma/client.ts',
        'apps/beat/.turbo/cache/x.tar.zst',
        '.git/config',
        'coverage/index.html',
      ];
      // each holds the test secrets, so a leak would also show up as a secret
      for (const file of planted) {
        mkdirSync(dirname(join(scratch, file)), { recursive: true });
        writeFileSync(join(scratch, file), readFileSync(testEnvFile));
      }
      const dest = mkdtempSync(join(tmpdir(), 'jobstack-e2e-context-'));
      try {
        const context = exportBuildContext(scratch, dest);
        timings['build context'] = `${context.files.length} files, ${megabytes(context.bytes)}`;
        expect(context.files.filter((f) => planted.includes(f))).toEqual([]);
        expect(
          context.files.filter((f) =>
            /(^|\/)(\.env[^/]*|node_modules|dist|\.git|\.turbo|coverage)(\/|$)/.test(f),
          ),
        ).toEqual([]);
        expect(context.files).toContain('pnpm-lock.yaml');
        expect(context.files).toContain('apps/api/Dockerfile');
      } finally {
        rmSync(dest, { recursive: true, force: true });
        for (const file of planted) rmSync(join(scratch, file), { force: true });
      }
    });

    it('after touching only apps/worker, api and beat rebuild entirely from the cache', () => {
      const before = {
        api: buildScratch('api', 'before'),
        beat: buildScratch('beat', 'before'),
      };

      // A change no earlier run made: BuildKit's cache outlives a run, so a fixed edit would be a
      // cache hit the second time the same commit is tested on a machine, and the prune stage
      // would not see it.
      const touch = randomUUID().slice(0, 8);
      const main = join(scratch, 'apps/worker/src/main.ts');
      writeFileSync(main, `${readFileSync(main, 'utf8')}\n// touched by the e2e test (${touch})\n`);
      const manifestPath = join(scratch, 'apps/worker/package.json');
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { version: string };
      writeFileSync(
        manifestPath,
        JSON.stringify({ ...manifest, version: `${manifest.version}-touched.${touch}` }, null, 2),
      );

      for (const app of ['api', 'beat'] as const) {
        const after = buildScratch(app, 'after-worker');
        timings[`${app} rebuild after a worker change`] = seconds(after.durationMs);
        expect(
          stepsThatRan(after.log, ['prune']).length,
          'the prune stage saw the change',
        ).toBeGreaterThan(0);
        expect(stepsThatRan(after.log, ['tools', 'build', 'runtime']).map((s) => s.name)).toEqual(
          [],
        );
        expect(after.layers, `${app} layers`).toEqual(before[app].layers);
      }
    });

    it("adding another app's catalog dependency or workspace package leaves api and beat cached", () => {
      const before = {
        api: buildScratch('api', 'before-catalog'),
        beat: buildScratch('beat', 'before-catalog'),
      };
      const workspace = join(scratch, 'pnpm-workspace.yaml');
      const text = readFileSync(workspace, 'utf8')
        .replace(/^packages:\n/m, 'packages:\n  - extras/*\n')
        .replace(/^catalog:\n/m, 'catalog:\n  left-pad: 1.3.0\n');
      expect(text).toContain('left-pad');
      writeFileSync(workspace, text);
      for (const app of ['api', 'beat'] as const) {
        const after = buildScratch(app, 'after-catalog');
        expect(stepsThatRan(after.log, ['tools', 'build', 'runtime']).map((s) => s.name)).toEqual(
          [],
        );
        expect(after.layers, `${app} layers`).toEqual(before[app].layers);
      }
    });
  });
});

import type { RailwayGraph, ServiceNode } from 'railway/iac';
import { describe, expect, it } from 'vitest';
import {
  checkBuildPaths,
  checkBuilds,
  checkPreDeploy,
  checkProductionMode,
  checkRequiredVariables,
  checkSecretsNotCommitted,
  checkSharedValuesAgree,
  checkShutdownWindow,
} from './checks.ts';
import { loadRailway } from './load.ts';
import { railwayTargets } from './railway.ts';
import { parseRenderBlueprint, readRenderBlueprint, renderTargets } from './render.ts';
import type { RenderBlueprint } from './schemas/render.ts';
import { formatProblem, type Problem } from './targets.ts';

// The checks run on copies of the real files with one thing broken, and must report it naming
// the file, the service and the variable (or path): what a developer sees when a file drifts.

type Doc = Record<string, unknown> & {
  services: (Record<string, unknown> & { name: string; envVars?: Record<string, unknown>[] })[];
  envVarGroups: { envVars: Record<string, unknown>[] }[];
};

function renderCopy(change: (doc: Doc) => void) {
  const doc = structuredClone(readRenderBlueprint()) as Doc;
  change(doc);
  const { blueprint, problems } = parseRenderBlueprint(doc);
  expect(problems).toEqual([]);
  return renderTargets(blueprint as RenderBlueprint);
}

const service = (doc: Doc, name: string) => {
  const found = doc.services.find((s) => s.name === name);
  if (!found) throw new Error(`no ${name} in the Blueprint`);
  return found;
};

// Evaluated while the file is collected: it starts a Node process.
const railway = loadRailway();

function railwayCopy(change: (service: (name: string) => ServiceNode) => void) {
  const { graph } = railway;
  if (!graph) throw new Error('.railway/railway.ts does not compile');
  const copy: RailwayGraph = structuredClone(graph);
  change((name) => {
    const found = copy.resources.find(
      (r): r is ServiceNode => r.type === 'service' && r.name === name,
    );
    if (!found) throw new Error(`no service ${name} in the Railway program`);
    return found;
  });
  return railwayTargets(copy);
}

const messages = (problems: Problem[]) => problems.map(formatProblem);

describe('a drift in infra/render.yaml', () => {
  it('a variable removed from a service: names the file, the service and the variable', () => {
    const targets = renderCopy((doc) => {
      const api = service(doc, 'jobstack-api');
      api.envVars = api.envVars?.filter((e) => e.key !== 'API_KEYS');
    });
    expect(messages(checkRequiredVariables(targets))).toEqual([
      'infra/render.yaml: service "jobstack-api": does not provide API_KEYS, which the api config requires in production (docs/environment.md)',
    ]);
  });

  it('a variable removed from the shared group: reported for every service that relied on it', () => {
    const targets = renderCopy((doc) => {
      const group = doc.envVarGroups[0];
      if (group) group.envVars = group.envVars.filter((e) => e.key !== 'NODE_ENV');
    });
    expect(messages(checkProductionMode(targets))).toEqual(
      expect.arrayContaining([
        'infra/render.yaml: service "jobstack-api": NODE_ENV is not "production"',
        'infra/render.yaml: service "jobstack-worker": NODE_ENV is not "production"',
        'infra/render.yaml: service "jobstack-beat": NODE_ENV is not "production"',
      ]),
    );
  });

  it('the database wiring removed: the pre-deploy migration is reported too', () => {
    const targets = renderCopy((doc) => {
      const api = service(doc, 'jobstack-api');
      api.envVars = api.envVars?.filter((e) => e.key !== 'DATABASE_URL');
    });
    expect(messages(checkRequiredVariables(targets))).toEqual([
      'infra/render.yaml: service "jobstack-api": does not provide DATABASE_URL, which the api config requires in production (docs/environment.md)',
      'infra/render.yaml: service "jobstack-api (preDeployCommand)": does not provide DATABASE_URL, which the migrate config requires in production (docs/environment.md)',
    ]);
  });

  it('a secret written as a value', () => {
    const targets = renderCopy((doc) => {
      const api = service(doc, 'jobstack-api');
      api.envVars = api.envVars?.map((e) =>
        e.key === 'API_KEYS' ? { key: 'API_KEYS', value: 'committed-key-0123456789' } : e,
      );
    });
    expect(messages(checkSecretsNotCommitted(targets))).toEqual([
      'infra/render.yaml: service "jobstack-api": the secret API_KEYS is written as a value; generate it, prompt for it, or reference it',
    ]);
  });

  it("another app's Dockerfile", () => {
    const targets = renderCopy((doc) => {
      service(doc, 'jobstack-worker').dockerfilePath = './apps/api/Dockerfile';
    });
    expect(messages(checkBuilds(targets))).toEqual([
      'infra/render.yaml: service "jobstack-worker": builds apps/api/Dockerfile, but worker runs from apps/worker/Dockerfile',
    ]);
  });

  it('a build filter missing a package the app is built from, or covering another app', () => {
    const targets = renderCopy((doc) => {
      const beat = service(doc, 'jobstack-beat');
      const filter = beat.buildFilter as { paths: string[] };
      filter.paths = [...filter.paths.filter((p) => p !== 'packages/jobs/**'), 'apps/**'];
    });
    const found = messages(checkBuildPaths(targets));
    expect(found).toEqual(
      expect.arrayContaining([
        'infra/render.yaml: service "jobstack-beat": a change to packages/jobs/package.json would not trigger a build, but the image is built from it',
        'infra/render.yaml: service "jobstack-beat": a change to apps/api (another app) would trigger a build of beat',
      ]),
    );
  });

  it('a shutdown window shorter than SHUTDOWN_TIMEOUT', () => {
    const targets = renderCopy((doc) => {
      const group = doc.envVarGroups[0];
      if (group) {
        group.envVars = group.envVars.map((e) =>
          e.key === 'SHUTDOWN_TIMEOUT' ? { key: 'SHUTDOWN_TIMEOUT', value: '60s' } : e,
        );
      }
    });
    expect(messages(checkShutdownWindow(targets))).toContain(
      'infra/render.yaml: service "jobstack-worker": allows 40 s between SIGTERM and SIGKILL, but SHUTDOWN_TIMEOUT is 60 s: give it at least 65 s',
    );
  });

  it('an api shutdown window that fits SHUTDOWN_TIMEOUT but not the drain delay before it', () => {
    const targets = renderCopy((doc) => {
      service(doc, 'jobstack-api').maxShutdownDelaySeconds = 32;
      service(doc, 'jobstack-worker').maxShutdownDelaySeconds = 32;
    });
    // the worker has no drain delay: 25 s + 5 s fits in 32 s
    expect(messages(checkShutdownWindow(targets))).toEqual([
      'infra/render.yaml: service "jobstack-api": allows 32 s between SIGTERM and SIGKILL, but SHUTDOWN_DRAIN_DELAY is 5 s, SHUTDOWN_TIMEOUT is 25 s: give it at least 35 s',
    ]);
  });

  it('a stop of several phases: the window must outlast their sum, each named', () => {
    const targets = renderCopy((doc) => {
      const group = doc.envVarGroups[0];
      if (group) {
        group.envVars = group.envVars.map((e) =>
          e.key === 'SHUTDOWN_TIMEOUT' ? { key: 'SHUTDOWN_TIMEOUT', value: '29s' } : e,
        );
      }
    });
    // the api's 5 s drain and 29 s fit the 40 s window; a third phase of 2 s (its default) does not
    expect(checkShutdownWindow(targets)).toEqual([]);
    expect(
      messages(
        checkShutdownWindow(targets, [
          'SHUTDOWN_DRAIN_DELAY',
          'SHUTDOWN_TIMEOUT',
          'HEALTH_CHECK_TIMEOUT',
        ]),
      ),
    ).toContain(
      'infra/render.yaml: service "jobstack-api": allows 40 s between SIGTERM and SIGKILL, but SHUTDOWN_DRAIN_DELAY is 5 s, SHUTDOWN_TIMEOUT is 29 s, HEALTH_CHECK_TIMEOUT is 2 s: give it at least 41 s',
    );
  });

  it('a pre-deploy command that does not exist', () => {
    const targets = renderCopy((doc) => {
      service(doc, 'jobstack-api').preDeployCommand = 'node_modules/.bin/prisma-migrate';
    });
    expect(messages(checkPreDeploy(targets))).toEqual([
      expect.stringMatching(
        /^infra\/render\.yaml: service "jobstack-api": preDeployCommand "node_modules\/\.bin\/prisma-migrate": no production dependency of @repo\/api declares a bin named "prisma-migrate"$/,
      ),
    ]);
  });
});

describe('a drift in .railway/railway.ts', () => {
  it('a variable removed: names the program, the service and the variable', () => {
    const targets = railwayCopy((service) => {
      delete service('worker').variables?.REDIS_URL;
    });
    expect(messages(checkRequiredVariables(targets))).toEqual([
      '.railway/railway.ts: service "worker": does not provide REDIS_URL, which the worker config requires in production (docs/environment.md)',
    ]);
  });

  it('a service on another queue prefix', () => {
    const targets = railwayCopy((service) => {
      const vars = service('beat').variables ?? {};
      vars.QUEUE_PREFIX = { type: 'literal', value: 'jobs' };
    });
    // every app reads QUEUE_PREFIX: the api, the worker, beat, then any app added since
    expect(messages(checkSharedValuesAgree(targets))).toEqual([
      expect.stringMatching(
        /^\.railway\/railway\.ts: service "api, worker, beat[^"]*": QUEUE_PREFIX differs between services: api: "jobstack"; worker: "jobstack"; beat: "jobs"(; [\w-]+: "jobstack")*$/,
      ),
    ]);
  });

  it('draining left at its default (SIGKILL right after SIGTERM)', () => {
    const targets = railwayCopy((service) => {
      const worker = service('worker');
      worker.deploy = { ...worker.deploy, drainingSeconds: null };
    });
    expect(messages(checkShutdownWindow(targets))).toContain(
      '.railway/railway.ts: service "worker": allows 0 s between SIGTERM and SIGKILL, but SHUTDOWN_TIMEOUT is 25 s: give it at least 30 s',
    );
  });

  it('watch patterns that miss the lockfile, and the build steps in tooling/docker', () => {
    const targets = railwayCopy((service) => {
      const build = service('api').build ?? {};
      build.watchPatterns = build.watchPatterns?.filter(
        (p) => p !== '/pnpm-lock.yaml' && p !== '/tooling/docker/**',
      );
    });
    expect(messages(checkBuildPaths(targets))).toEqual([
      '.railway/railway.ts: service "api": a change to tooling/docker/bundle-app.mjs would not trigger a build, but the image is built from it',
      '.railway/railway.ts: service "api": a change to tooling/docker/trim-prisma-client.mjs would not trigger a build, but the image is built from it',
      '.railway/railway.ts: service "api": a change to tooling/docker/trim-pruned-workspace.mjs would not trigger a build, but the image is built from it',
      '.railway/railway.ts: service "api": a change to pnpm-lock.yaml would not trigger a build, but the image is built from it',
    ]);
  });

  it('the worker without its pre-deploy migration', () => {
    const targets = railwayCopy((service) => {
      const worker = service('worker');
      worker.deploy = { ...worker.deploy, preDeployCommand: null };
    });
    expect(messages(checkPreDeploy(targets))).toEqual([
      '.railway/railway.ts: service "worker": has no pre-deploy command running the migrations, but the worker needs the schema',
    ]);
  });

  it('a secret written into the program', () => {
    const targets = railwayCopy((service) => {
      const vars = service('api').variables ?? {};
      vars.API_KEYS = { type: 'literal', value: 'committed-key-0123456789' };
    });
    expect(messages(checkSecretsNotCommitted(targets))).toEqual([
      '.railway/railway.ts: service "api": the secret API_KEYS is written as a value; generate it, prompt for it, or reference it',
    ]);
  });
});

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
import {
  checkRailway,
  parseRailwayConfig,
  parseRailwayVariables,
  RAILWAY_VARIABLES,
  railwayConfigFiles,
  railwayTargets,
  readJson,
} from './railway.ts';
import { parseRenderBlueprint, readRenderBlueprint, renderTargets } from './render.ts';
import type { RailwayConfig, RailwayVariables } from './schemas/railway.ts';
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

function railwayCopy(
  change: (variables: RailwayVariables, configs: Map<string, RailwayConfig>) => void,
) {
  const configs = new Map<string, RailwayConfig>();
  for (const file of railwayConfigFiles()) {
    const { config } = parseRailwayConfig(structuredClone(readJson(file)), file);
    if (config) configs.set(file, config);
  }
  const { variables } = parseRailwayVariables(structuredClone(readJson(RAILWAY_VARIABLES)));
  if (!variables) throw new Error(`${RAILWAY_VARIABLES} does not parse`);
  change(variables, configs);
  return { targets: railwayTargets(configs, variables), variables, configs };
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

describe('a drift in infra/railway', () => {
  it('a variable removed: names variables.json, the service and the variable', () => {
    const { targets } = railwayCopy((variables) => {
      delete variables.services.worker?.REDIS_URL;
    });
    expect(messages(checkRequiredVariables(targets))).toEqual([
      'infra/railway/variables.json: service "worker": does not provide REDIS_URL, which the worker config requires in production (docs/environment.md)',
    ]);
  });

  it('a reference to a shared variable nobody defines', () => {
    const { variables, configs } = railwayCopy((v) => {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Railway's reference syntax
      if (v.services.api) v.services.api.API_KEYS = '${{shared.API_TOKENS}}';
    });
    expect(messages(checkRailway(configs, variables))).toEqual([
      expect.stringMatching(
        /^infra\/railway\/variables\.json: service "api": API_KEYS references \$\{\{shared\.API_TOKENS\}\}/,
      ),
    ]);
  });

  it('a service on another queue prefix', () => {
    const { targets } = railwayCopy((variables) => {
      if (variables.services.beat) variables.services.beat.QUEUE_PREFIX = 'jobs';
    });
    expect(messages(checkSharedValuesAgree(targets))).toEqual([
      'infra/railway/variables.json: service "api, beat, worker": QUEUE_PREFIX differs between services: api: "jobstack"; beat: "jobs"; worker: "jobstack"',
    ]);
  });

  it('draining left at its default (SIGKILL right after SIGTERM)', () => {
    const { targets, variables, configs } = railwayCopy((_v, c) => {
      const worker = c.get('infra/railway/worker.json');
      if (worker) delete worker.deploy.drainingSeconds;
    });
    expect(messages(checkRailway(configs, variables))).toContain(
      'infra/railway/worker.json: service "worker": drainingSeconds is not set: Railway then sends SIGKILL right after SIGTERM',
    );
    expect(messages(checkShutdownWindow(targets))).toContain(
      'infra/railway/worker.json: service "worker": allows 0 s between SIGTERM and SIGKILL, but SHUTDOWN_TIMEOUT is 25 s: give it at least 30 s',
    );
  });

  it('watch patterns that miss the lockfile', () => {
    const { targets } = railwayCopy((_v, c) => {
      const api = c.get('infra/railway/api.json');
      if (api)
        api.build.watchPatterns = api.build.watchPatterns?.filter((p) => p !== '/pnpm-lock.yaml');
    });
    expect(messages(checkBuildPaths(targets))).toEqual([
      'infra/railway/api.json: service "api": a change to pnpm-lock.yaml would not trigger a build, but the image is built from it',
    ]);
  });
});

import { readdirSync } from 'node:fs';
import { type ServiceName, serviceEnvs } from '@repo/config';
import { normalizeRepoPath, readRepoFile, repoPath } from './repo.ts';
import {
  type RailwayConfig,
  type RailwayVariables,
  railwayConfig,
  railwayVariables,
} from './schemas/railway.ts';
import type { DeployTarget, EnvSource, Problem } from './targets.ts';

export const RAILWAY_DIR = 'infra/railway';
export const RAILWAY_VARIABLES = `${RAILWAY_DIR}/variables.json`;

/**
 * Services the Railway project gets from its database templates, and the variables they expose
 * (https://docs.railway.com/databases/postgresql, https://docs.railway.com/databases/redis).
 */
export const RAILWAY_DATABASE_VARIABLES: Record<string, readonly string[]> = {
  Postgres: [
    'DATABASE_URL',
    'DATABASE_PUBLIC_URL',
    'PGHOST',
    'PGPORT',
    'PGUSER',
    'PGPASSWORD',
    'PGDATABASE',
  ],
  Redis: ['REDIS_URL', 'REDIS_PUBLIC_URL', 'REDISHOST', 'REDISPORT', 'REDISUSER', 'REDISPASSWORD'],
};

/** Railway's default when drainingSeconds is unset: SIGKILL right after SIGTERM. */
const RAILWAY_DEFAULT_DRAINING_SECONDS = 0;

/** The per-service config files: infra/railway/<service>.json, where <service> is an app. */
export function railwayConfigFiles(): string[] {
  return readdirSync(repoPath(RAILWAY_DIR))
    .filter((f) => f.endsWith('.json') && f !== 'variables.json')
    .sort()
    .map((f) => `${RAILWAY_DIR}/${f}`);
}

export function serviceOfRailwayFile(file: string): string {
  return file.slice(RAILWAY_DIR.length + 1, -'.json'.length);
}

function zodProblems(file: string, issues: { path: PropertyKey[]; message: string }[]): Problem[] {
  return issues.map((issue) => ({
    file,
    name: '-',
    message: `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`,
  }));
}

export function parseRailwayConfig(
  doc: unknown,
  file: string,
): { config?: RailwayConfig; problems: Problem[] } {
  const result = railwayConfig.safeParse(doc);
  return result.success
    ? { config: result.data, problems: [] }
    : { problems: zodProblems(file, result.error.issues) };
}

export function parseRailwayVariables(
  doc: unknown,
  file = RAILWAY_VARIABLES,
): { variables?: RailwayVariables; problems: Problem[] } {
  const result = railwayVariables.safeParse(doc);
  return result.success
    ? { variables: result.data, problems: [] }
    : { problems: zodProblems(file, result.error.issues) };
}

export function readJson(file: string): unknown {
  return JSON.parse(readRepoFile(file));
}

const REFERENCE = /\$\{\{\s*([^}]*?)\s*\}\}/g;

function sourceOf(value: string): EnvSource {
  const refs = [...value.matchAll(REFERENCE)].map((m) => m[1] ?? '');
  return refs.length > 0 ? { kind: 'reference', to: refs.join(', ') } : { kind: 'literal', value };
}

/**
 * One deploy target per Railway config file, its variables taken from variables.json. The api's
 * pre-deploy command also yields a `migrate` target with the api's variables (it runs in the api's
 * image, in a separate container, with the service's variables).
 */
export function railwayTargets(
  configs: ReadonlyMap<string, RailwayConfig>,
  variables: RailwayVariables,
  variablesFile = RAILWAY_VARIABLES,
): DeployTarget[] {
  const targets: DeployTarget[] = [];
  for (const [file, config] of configs) {
    const name = serviceOfRailwayFile(file);
    if (!(name in serviceEnvs)) continue;
    const env = new Map<string, EnvSource>(
      Object.entries(variables.services[name] ?? {}).map(([k, v]) => [k, sourceOf(v)]),
    );
    const dockerfile = config.build.dockerfilePath;
    targets.push({
      platform: 'railway',
      file,
      // Variables are read from variables.json; a missing one is reported against that file.
      envFile: variablesFile,
      name,
      service: name as ServiceName,
      env,
      ...(dockerfile
        ? { build: { dockerfile: normalizeRepoPath(dockerfile) ?? dockerfile, context: '.' } }
        : {}),
      shutdownWindowSeconds: config.deploy.drainingSeconds ?? RAILWAY_DEFAULT_DRAINING_SECONDS,
      ...(config.deploy.healthcheckPath ? { healthCheckPath: config.deploy.healthcheckPath } : {}),
      ...(config.deploy.preDeployCommand
        ? { preDeployCommand: config.deploy.preDeployCommand.flatMap((c) => c.split(/\s+/)) }
        : {}),
      ...(config.build.watchPatterns ? { buildPaths: config.build.watchPatterns } : {}),
    });
    if (config.deploy.preDeployCommand) {
      targets.push({
        platform: 'railway',
        file,
        envFile: variablesFile,
        name: `${name} (preDeployCommand)`,
        service: 'migrate',
        env,
      });
    }
  }
  return targets;
}

/** Railway-specific rules. */
export function checkRailway(
  configs: ReadonlyMap<string, RailwayConfig>,
  variables: RailwayVariables,
  variablesFile = RAILWAY_VARIABLES,
): Problem[] {
  const problems: Problem[] = [];
  const services = [...configs.keys()].map(serviceOfRailwayFile);
  for (const [file, config] of configs) {
    const name = serviceOfRailwayFile(file);
    if (!(name in serviceEnvs)) {
      problems.push({
        file,
        name,
        message: `the file name is not one of ${Object.keys(serviceEnvs).join(', ')}, so no config schema can be checked against it`,
      });
    }
    if (config.build.builder !== 'DOCKERFILE' || !config.build.dockerfilePath) {
      problems.push({
        file,
        name,
        message: 'build.builder must be DOCKERFILE with a dockerfilePath',
      });
    }
    if (config.deploy.cronSchedule) {
      problems.push({
        file,
        name,
        message:
          'cronSchedule makes the service a cron job that must exit, at most every 5 minutes; every app here is long-running',
      });
    }
    if (config.deploy.restartPolicyType === undefined) {
      problems.push({ file, name, message: 'restartPolicyType is not set; say which on purpose' });
    }
    if (config.deploy.drainingSeconds == null) {
      problems.push({
        file,
        name,
        message: 'drainingSeconds is not set: Railway then sends SIGKILL right after SIGTERM',
      });
    }
    if (config.deploy.preDeployCommand?.some((c) => /[;&|<>$`]/.test(c))) {
      problems.push({
        file,
        name,
        message: 'preDeployCommand uses shell syntax; keep it one plain command',
      });
    }
    if (config.environments) {
      problems.push({
        file,
        name,
        message:
          'environment overrides are not checked by these tests; add checks before using them',
      });
    }
  }

  for (const name of Object.keys(variables.services)) {
    if (!services.includes(name)) {
      problems.push({
        file: variablesFile,
        name,
        message: `has variables but no ${RAILWAY_DIR}/${name}.json config`,
      });
    }
  }
  for (const name of services) {
    if (!variables.services[name]) {
      problems.push({ file: variablesFile, name, message: 'has a config file but no variables' });
    }
  }

  // Every ${{ NS.VAR }} must point at something that exists in the project.
  for (const [name, vars] of Object.entries(variables.services)) {
    for (const [key, value] of Object.entries(vars)) {
      for (const match of value.matchAll(REFERENCE)) {
        const ref = match[1] ?? '';
        const [namespace, variable, ...rest] = ref.split('.');
        const known =
          rest.length === 0 &&
          variable !== undefined &&
          (namespace === 'shared'
            ? variable in variables.shared
            : (RAILWAY_DATABASE_VARIABLES[namespace ?? '']?.includes(variable) ?? false));
        if (!known) {
          problems.push({
            file: variablesFile,
            name,
            message: `${key} references \${{${ref}}}, which is neither a shared variable declared in "shared" nor a variable of ${Object.keys(RAILWAY_DATABASE_VARIABLES).join(' or ')}`,
          });
        }
      }
    }
  }
  return problems;
}

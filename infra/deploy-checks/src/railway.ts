import { describeServiceEnv, type ServiceName, serviceEnvs } from '@repo/env-reference';
import type { DatabaseNode, RailwayGraph, ServiceNode, VariableValue } from 'railway/iac';
import { parse as parseShellWords } from 'shell-quote';
import { RAILWAY_PROGRAM } from './railway-graph.ts';
import { deployableApps, normalizeRepoPath } from './repo.ts';
import type { DeployTarget, EnvSource, Problem } from './targets.ts';

/**
 * The variables Railway's database templates provide to references (`db.env.X`): the SDK's
 * PostgresVariable and RedisVariable types, minus what every service gets
 * (https://docs.railway.com/databases/postgresql, https://docs.railway.com/databases/redis).
 */
export const RAILWAY_DATABASE_VARIABLES: Record<DatabaseNode['engine'], readonly string[]> = {
  postgres: [
    'DATABASE_URL',
    'DATABASE_PUBLIC_URL',
    'PGHOST',
    'PGPORT',
    'PGUSER',
    'PGPASSWORD',
    'PGDATABASE',
    'POSTGRES_DB',
    'POSTGRES_USER',
    'POSTGRES_PASSWORD',
  ],
  redis: [
    'REDIS_URL',
    'REDIS_PUBLIC_URL',
    'REDISHOST',
    'REDISPORT',
    'REDISUSER',
    'REDISPASSWORD',
    'REDIS_PASSWORD',
  ],
  mysql: [],
  mongo: [],
  private: [],
};

/** Variables Railway sets on every service, which references may name too. */
const RAILWAY_PROVIDED = new Set([
  'RAILWAY_PUBLIC_DOMAIN',
  'RAILWAY_PRIVATE_DOMAIN',
  'RAILWAY_TCP_PROXY_DOMAIN',
  'RAILWAY_TCP_PROXY_PORT',
  'RAILWAY_SERVICE_NAME',
  'PORT',
]);

/** Railway's default when drainingSeconds is unset: SIGKILL right after SIGTERM. */
const RAILWAY_DEFAULT_DRAINING_SECONDS = 0;

const services = (graph: RailwayGraph): ServiceNode[] =>
  graph.resources.filter((r): r is ServiceNode => r.type === 'service');
const databases = (graph: RailwayGraph): DatabaseNode[] =>
  graph.resources.filter((r): r is DatabaseNode => r.type === 'database');

function nameOf(graph: RailwayGraph, address: string): string {
  return graph.resources.find((r) => r.address === address)?.name ?? address;
}

function sourceOf(graph: RailwayGraph, value: VariableValue): EnvSource {
  switch (value.type) {
    case 'literal':
      return { kind: 'literal', value: value.value ?? '' };
    case 'reference':
      return { kind: 'reference', to: `${nameOf(graph, value.resource)}.${value.output}` };
    case 'sharedReference':
      return { kind: 'reference', to: `shared.${value.name}` };
    case 'preserve':
      return { kind: 'prompted' };
    case 'raw':
      return value.value.generator
        ? { kind: 'generated' }
        : { kind: 'literal', value: value.value.value ?? '' };
  }
}

/**
 * One deploy target per app service of the compiled graph. A service's pre-deploy command also
 * yields a `migrate` target with the service's variables: it runs in the service's image, in a
 * separate container, with the service's variables (https://docs.railway.com/deployments/pre-deploy-command).
 */
export function railwayTargets(graph: RailwayGraph, file = RAILWAY_PROGRAM): DeployTarget[] {
  const targets: DeployTarget[] = [];
  for (const svc of services(graph)) {
    if (!(svc.name in serviceEnvs)) continue;
    const env = new Map<string, EnvSource>(
      Object.entries(svc.variables ?? {}).map(([key, value]) => [key, sourceOf(graph, value)]),
    );
    const dockerfile = svc.build?.builder === 'DOCKERFILE' ? svc.build.dockerfilePath : undefined;
    const root = svc.source?.rootDirectory;
    const preDeploy = svc.deploy?.preDeployCommand ?? undefined;
    targets.push({
      platform: 'railway',
      file,
      name: svc.name,
      service: svc.name as ServiceName,
      env,
      ...(dockerfile
        ? {
            build: {
              dockerfile: normalizeRepoPath(dockerfile) ?? dockerfile,
              context: root ? (normalizeRepoPath(root) ?? root) : '.',
            },
          }
        : {}),
      shutdownWindowSeconds: svc.deploy?.drainingSeconds ?? RAILWAY_DEFAULT_DRAINING_SECONDS,
      ...(svc.deploy?.healthcheckPath
        ? {
            healthCheck: { path: svc.deploy.healthcheckPath, restartsFailingInstances: false },
          }
        : {}),
      ...(preDeploy ? { preDeployCommand: preDeploy.flatMap((c) => c.split(/\s+/)) } : {}),
      ...(svc.build?.watchPatterns ? { buildPaths: svc.build.watchPatterns } : {}),
    });
    if (preDeploy) {
      targets.push({
        platform: 'railway',
        file,
        name: `${svc.name} (preDeployCommand)`,
        service: 'migrate',
        env,
      });
    }
  }
  return targets;
}

/** The words of a shell command line, with `$VAR` kept as written. */
function shellWords(command: string): string[] {
  return parseShellWords(command, (name) => `$${name}`).filter(
    (word): word is string => typeof word === 'string',
  );
}

/**
 * The arguments redis-server gets from a Railway Redis start command: the command itself, or the
 * script of a `sh -c "…"` around it.
 */
export function redisServerArguments(startCommand: string): string[] | undefined {
  let words = shellWords(startCommand);
  const dashC = words.indexOf('-c');
  if (/(^|\/)(ba)?sh$/.test(words[0] ?? '') && dashC >= 0) {
    words = shellWords(words[dashC + 1] ?? '');
  }
  const server = words.findIndex((word) => /(^|\/)redis-server$/.test(word));
  return server < 0 ? undefined : words.slice(server + 1);
}

/**
 * What a Redis that holds a queue needs (https://docs.railway.com/guides/redis-cache-vs-store):
 * the append-only file, on the database's volume, noeviction, and its password required.
 */
export function redisStoreProblems(startCommand: string | null | undefined): string[] {
  if (!startCommand) {
    return [
      "has no start command of its own: the template's runs Redis without the append-only file, so a restart loses up to the last snapshot's worth of queued jobs",
    ];
  }
  const args = redisServerArguments(startCommand);
  if (!args) return [`start command "${startCommand}" does not run redis-server`];
  const option = (name: string) => {
    const at = args.lastIndexOf(`--${name}`);
    return at < 0 ? undefined : (args[at + 1] ?? '');
  };
  const problems: string[] = [];
  if (option('appendonly') !== 'yes') {
    problems.push('does not turn on the append-only file (--appendonly yes)');
  }
  const fsync = option('appendfsync');
  if (fsync !== undefined && fsync !== 'everysec' && fsync !== 'always') {
    problems.push(`--appendfsync ${fsync} can lose more than a second of writes`);
  }
  if (!option('dir')?.includes('$RAILWAY_VOLUME_MOUNT_PATH')) {
    problems.push(
      'does not keep its files on the volume (--dir "$RAILWAY_VOLUME_MOUNT_PATH"): the append-only file would not survive a redeploy',
    );
  }
  const policy = option('maxmemory-policy');
  if (policy !== undefined && policy !== 'noeviction') {
    problems.push(`--maxmemory-policy ${policy} evicts keys; BullMQ requires noeviction`);
  }
  if (!option('requirepass')?.includes('$REDIS_PASSWORD')) {
    problems.push(
      'does not require the password its REDIS_URL carries (--requirepass "$REDIS_PASSWORD")',
    );
  }
  return problems;
}

/** Railway-specific rules, on the compiled graph. */
export function checkRailway(graph: RailwayGraph, file = RAILWAY_PROGRAM): Problem[] {
  const problems: Problem[] = [];
  const add = (name: string, message: string) => problems.push({ file, name, message });
  const apps = deployableApps().map((a) => a.name);

  for (const app of apps) {
    if (!services(graph).some((s) => s.name === app)) add(app, 'no service runs this app');
  }
  for (const svc of services(graph)) {
    if (!(svc.name in serviceEnvs)) {
      add(
        svc.name,
        `the service name is not one of ${apps.join(', ')}, so no config schema can be checked against it`,
      );
      continue;
    }
    const source = svc.source;
    if (source?.type !== 'github') {
      add(svc.name, 'does not deploy from the GitHub repository (source: github(...))');
    } else {
      if (source.checkSuites !== true) {
        add(
          svc.name,
          "deploys a commit before its GitHub checks pass: set checkSuites: true (Railway's Wait for CI)",
        );
      }
      if (source.rootDirectory) {
        add(
          svc.name,
          `sets root directory ${source.rootDirectory}; the Dockerfiles need the whole repository`,
        );
      }
    }
    if (svc.build?.builder !== 'DOCKERFILE' || !svc.build.dockerfilePath) {
      add(
        svc.name,
        'build.builder must be DOCKERFILE with a dockerfilePath (else Railpack builds it)',
      );
    }
    const deploy = svc.deploy ?? {};
    if (deploy.startCommand) {
      add(
        svc.name,
        `startCommand "${deploy.startCommand}" replaces the image's CMD; leave it unset`,
      );
    }
    if (deploy.cronSchedule) {
      add(
        svc.name,
        'cronSchedule makes the service a cron job that must exit, at most every 5 minutes; every app here is long-running',
      );
    }
    if (!deploy.restartPolicyType)
      add(svc.name, 'restartPolicyType is not set; say which on purpose');
    if (deploy.drainingSeconds == null) {
      add(svc.name, 'drainingSeconds is not set: Railway then sends SIGKILL right after SIGTERM');
    }
    if (deploy.preDeployCommand?.some((c) => /[;&|<>$`]/.test(c))) {
      add(svc.name, 'preDeployCommand uses shell syntax; keep it one plain command');
    }
    for (const [key, value] of Object.entries(svc.variables ?? {})) {
      if (value.type === 'reference') {
        const target = graph.resources.find((r) => r.address === value.resource);
        const provided =
          target?.type === 'database'
            ? RAILWAY_DATABASE_VARIABLES[target.engine]
            : target?.type === 'service'
              ? Object.keys(target.variables ?? {})
              : [];
        if (target && !provided.includes(value.output) && !RAILWAY_PROVIDED.has(value.output)) {
          add(
            svc.name,
            `${key} references ${target.name}.${value.output}, which ${target.name} does not provide`,
          );
        }
        if (value.output.endsWith('_PUBLIC_URL')) {
          add(
            svc.name,
            `${key} uses ${target?.name ?? value.resource}'s public URL; services in the project talk over the private network`,
          );
        }
      }
      if (value.type === 'sharedReference') {
        const declared = describeServiceEnv(svc.name as ServiceName).find((v) => v.name === key);
        if (value.name !== key || !declared?.secret) {
          add(
            svc.name,
            `${key} comes from the shared variable ${value.name}: shared variables carry this project's secrets, each under its own name`,
          );
        }
      }
    }
  }

  for (const db of databases(graph)) {
    if (db.networking?.tcpProxies && Object.keys(db.networking.tcpProxies).length > 0) {
      add(
        db.name,
        'has a TCP proxy, which opens it to the internet; keep it on the private network',
      );
    }
    if (db.engine === 'redis') {
      for (const message of redisStoreProblems(db.deploy?.startCommand)) add(db.name, message);
    }
  }
  return problems;
}

/** The names of the shared variables the program references: created by hand in each environment. */
export function railwaySharedVariables(graph: RailwayGraph): string[] {
  const names = new Set<string>();
  for (const svc of services(graph)) {
    for (const value of Object.values(svc.variables ?? {})) {
      if (value.type === 'sharedReference') names.add(value.name);
    }
  }
  return [...names].sort();
}

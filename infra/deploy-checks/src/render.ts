import { type ServiceName, serviceEnvs } from '@repo/env-reference';
import { parse } from 'yaml';
import { normalizeRepoPath, readRepoFile } from './repo.ts';
import {
  type RenderBlueprint,
  type RenderServiceEnvVar,
  renderBlueprint,
} from './schemas/render.ts';
import type { DeployTarget, EnvSource, Problem } from './targets.ts';
import { serviceOfName } from './targets.ts';

/** Where the Blueprint lives; Render is pointed at it when the Blueprint is created (docs/deploy.md). */
export const RENDER_BLUEPRINT = 'infra/render.yaml';

/** Render's own default when maxShutdownDelaySeconds is omitted (https://render.com/docs/blueprint-spec#maxshutdowndelayseconds). */
const RENDER_DEFAULT_SHUTDOWN_DELAY = 30;

export function readRenderBlueprint(file = RENDER_BLUEPRINT): unknown {
  return parse(readRepoFile(file));
}

export function parseRenderBlueprint(
  doc: unknown,
  file = RENDER_BLUEPRINT,
): { blueprint?: RenderBlueprint; problems: Problem[] } {
  const result = renderBlueprint.safeParse(doc);
  if (result.success) return { blueprint: result.data, problems: [] };
  return {
    problems: result.error.issues.map((issue) => ({
      file,
      name: '-',
      message: `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    })),
  };
}

function sourceOf(entry: RenderServiceEnvVar): EnvSource {
  if ('value' in entry) return { kind: 'literal', value: String(entry.value) };
  if ('generateValue' in entry) return { kind: 'generated' };
  if ('sync' in entry) return { kind: 'prompted' };
  if ('fromDatabase' in entry) {
    return {
      kind: 'reference',
      to: `database ${entry.fromDatabase.name}.${entry.fromDatabase.property}`,
    };
  }
  if ('fromService' in entry) {
    const ref = entry.fromService;
    return {
      kind: 'reference',
      to: `${ref.type} ${ref.name}.${'property' in ref ? ref.property : ref.envVarKey}`,
    };
  }
  throw new Error('fromGroup entries are expanded by the caller');
}

/**
 * The api, worker and beat services of the Blueprint as deploy targets, with envVarGroups expanded
 * (a service's own value wins over a group's, as on Render). The api's pre-deploy command also
 * yields a `migrate` target: it runs in the api's image with the api's variables.
 */
export function renderTargets(blueprint: RenderBlueprint, file = RENDER_BLUEPRINT): DeployTarget[] {
  const services = Object.keys(serviceEnvs);
  const groups = new Map((blueprint.envVarGroups ?? []).map((g) => [g.name, g.envVars] as const));
  const targets: DeployTarget[] = [];
  for (const svc of blueprint.services) {
    if (svc.type === 'keyvalue') continue;
    const service = serviceOfName(svc.name, services);
    if (!service) continue;
    const env = new Map<string, EnvSource>();
    const own = new Map<string, EnvSource>();
    for (const entry of svc.envVars ?? []) {
      if ('fromGroup' in entry) {
        for (const groupEntry of groups.get(entry.fromGroup) ?? []) {
          env.set(groupEntry.key, sourceOf(groupEntry));
        }
      } else {
        own.set(entry.key, sourceOf(entry));
      }
    }
    for (const [key, source] of own) env.set(key, source);
    const target: DeployTarget = {
      platform: 'render',
      file,
      name: svc.name,
      service,
      env,
      build: {
        dockerfile: normalizeRepoPath(svc.dockerfilePath) ?? svc.dockerfilePath,
        context: normalizeRepoPath(svc.dockerContext) ?? svc.dockerContext,
      },
      shutdownWindowSeconds: svc.maxShutdownDelaySeconds ?? RENDER_DEFAULT_SHUTDOWN_DELAY,
      // Render probes the path for as long as the service runs, and restarts an instance that
      // fails it for 60 s in a row (https://render.com/docs/health-checks).
      ...(svc.type === 'web' && svc.healthCheckPath
        ? { healthCheck: { path: svc.healthCheckPath, restartsFailingInstances: true } }
        : {}),
      ...(svc.preDeployCommand ? { preDeployCommand: svc.preDeployCommand.split(/\s+/) } : {}),
      ...(svc.buildFilter
        ? {
            buildPaths: svc.buildFilter.paths,
            buildIgnoredPaths: svc.buildFilter.ignoredPaths ?? [],
          }
        : {}),
    };
    targets.push(target);
    if (svc.preDeployCommand) {
      targets.push({
        platform: 'render',
        file,
        name: `${svc.name} (preDeployCommand)`,
        service: 'migrate' satisfies ServiceName,
        env,
      });
    }
  }
  return targets;
}

/** Render-specific rules that have no counterpart elsewhere. */
export function checkRenderBlueprint(
  blueprint: RenderBlueprint,
  file = RENDER_BLUEPRINT,
): Problem[] {
  const problems: Problem[] = [];
  const services = Object.keys(serviceEnvs);
  const keyValues = blueprint.services.filter((s) => s.type === 'keyvalue');
  const databases = blueprint.databases ?? [];
  const groupNames = new Set((blueprint.envVarGroups ?? []).map((g) => g.name));

  // Key Value: BullMQ needs noeviction (an evicted key is a lost job or lock); internal only.
  for (const kv of keyValues) {
    if (kv.maxmemoryPolicy !== 'noeviction') {
      problems.push({
        file,
        name: kv.name,
        message: `maxmemoryPolicy is ${kv.maxmemoryPolicy ?? 'unset (Render defaults to allkeys-lru)'}; BullMQ requires noeviction`,
      });
    }
    if (kv.ipAllowList.length > 0) {
      problems.push({
        file,
        name: kv.name,
        message: 'ipAllowList opens Key Value to the internet; use [] (private network only)',
      });
    }
  }
  for (const db of databases) {
    if (db.ipAllowList === undefined || db.ipAllowList.length > 0) {
      problems.push({
        file,
        name: db.name,
        message:
          'the database accepts connections from outside Render; set ipAllowList: [] (omitting it allows everyone)',
      });
    }
  }

  // Every service and datastore in one region: the private network does not span regions.
  const regions = new Set(
    [...blueprint.services, ...databases].map((r) => r.region ?? 'oregon (default)'),
  );
  if (regions.size > 1) {
    problems.push({
      file,
      name: '-',
      message: `resources are spread over regions ${[...regions].join(', ')}; the private network connecting them is per region`,
    });
  }

  for (const svc of blueprint.services) {
    if (svc.type === 'keyvalue') continue;
    if (!serviceOfName(svc.name, services)) {
      problems.push({
        file,
        name: svc.name,
        message: `the name does not end in one of ${services.join(', ')}, so no config schema can be checked against it`,
      });
    }
    if (svc.autoDeployTrigger === undefined) {
      problems.push({
        file,
        name: svc.name,
        message: 'autoDeployTrigger is not set (commit, checksPass or off); say which on purpose',
      });
    }
    for (const entry of svc.envVars ?? []) {
      if ('fromGroup' in entry && !groupNames.has(entry.fromGroup)) {
        problems.push({
          file,
          name: svc.name,
          message: `fromGroup ${entry.fromGroup} is not defined in envVarGroups`,
        });
      }
      if ('fromDatabase' in entry && !databases.some((d) => d.name === entry.fromDatabase.name)) {
        problems.push({
          file,
          name: svc.name,
          message: `${entry.key} comes from database ${entry.fromDatabase.name}, which the Blueprint does not define`,
        });
      }
      if ('fromService' in entry) {
        const ref = entry.fromService;
        const target = blueprint.services.find((s) => s.name === ref.name);
        if (!target || target.type !== ref.type) {
          problems.push({
            file,
            name: svc.name,
            message: `${entry.key} comes from ${ref.type} ${ref.name}, which the Blueprint does not define`,
          });
        }
      }
    }
    // Render documents no shell around the pre-deploy command, and users report `&&` being passed
    // to the program as an argument: keep it one plain command.
    if (svc.preDeployCommand && /[;&|<>$`]/.test(svc.preDeployCommand)) {
      problems.push({
        file,
        name: svc.name,
        message: `preDeployCommand "${svc.preDeployCommand}" uses shell syntax; keep it one plain command`,
      });
    }
  }
  return problems;
}

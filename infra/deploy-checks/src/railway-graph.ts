import { spawnSync } from 'node:child_process';
import {
  type Edge,
  type ProjectDefinition,
  RAILWAY_GRAPH_VERSION,
  type RailwayGraph,
  type ResourceNode,
  validateGraph,
} from 'railway/iac';
import { repoPath, repoRoot } from './repo.ts';

/** The Railway IaC program: the Railway CLI finds it here, at the repository root. */
export const RAILWAY_PROGRAM = '.railway/railway.ts';

/**
 * The context `railway config plan` passes for a linked project's production environment. The
 * program must not depend on anything else the CLI knows (project and environment ids).
 */
export const PLAN_CONTEXT = {
  command: 'plan',
  projectName: 'jobstack',
  environment: 'production',
  environmentName: 'production',
};

// What the Railway CLI does with .railway/railway.ts, in a process of its own: Node with type
// stripping, `railway/iac` resolved from the repository (so the file must load without any build
// step or test-runner transform), the context from the SDK's createRailwayContext, the default
// export called with it and the SDK's `project`, the result printed as JSON.
const EVALUATE = `
import { pathToFileURL } from 'node:url';
import { createRailwayContext, project } from 'railway/iac';
const program = (await import(pathToFileURL(process.argv[1]).href)).default;
const context = createRailwayContext(JSON.parse(process.env.RAILWAY_IAC_CONTEXT));
process.stdout.write(JSON.stringify(await program(context, project)));
`;

/**
 * Evaluates the program as the CLI does and returns the project definition it describes, or why
 * it could not be evaluated. `env` is the whole environment the program sees besides PATH.
 */
export function evaluateRailwayProgram(
  env: Record<string, string>,
  file = RAILWAY_PROGRAM,
): { definition: ProjectDefinition } | { error: string } {
  const result = spawnSync(
    process.execPath,
    ['--experimental-strip-types', '--input-type=module', '-e', EVALUATE, '--', repoPath(file)],
    {
      cwd: repoRoot,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, ...env, RAILWAY_IAC_CONTEXT: JSON.stringify(PLAN_CONTEXT) },
    },
  );
  if (result.error || result.status !== 0) {
    return {
      error: `${file} could not be evaluated: ${(result.error?.message ?? result.stderr).trim()}`,
    };
  }
  return { definition: JSON.parse(result.stdout) as ProjectDefinition };
}

/**
 * The graph the Railway CLI plans with: the project's resources flattened (groups are arrays),
 * every volume a resource mounts declared, and an edge for each mount and each variable that
 * references another resource. Written here because the CLI's compile step left the SDK for the
 * CLI itself (railway 3.11 ships only `validateGraph`), and mirrors the CLI's
 * `project_definition_to_graph`, so that `validateGraph` sees what the CLI would give it.
 */
export function compileRailwayGraph(definition: ProjectDefinition): RailwayGraph {
  const resources = (definition.resources ?? definition.services ?? []).flat(
    Number.POSITIVE_INFINITY,
  ) as ResourceNode[];
  const seen = new Set<string>(resources.map((r) => r.address));
  const volumes: ResourceNode[] = [];
  const edges: Edge[] = [];
  for (const resource of resources) {
    if (resource.type !== 'service' && resource.type !== 'database') continue;
    for (const [name, attachment] of Object.entries(resource.volumeAttachments ?? {})) {
      if (!seen.has(attachment.volume)) {
        seen.add(attachment.volume);
        volumes.push({
          address: attachment.volume as `volume.${string}`,
          type: 'volume',
          name: attachment.volume.split('.').slice(1).join('.') || name,
          ...(attachment.volumeConfig ? { config: attachment.volumeConfig } : {}),
        });
      }
      edges.push({
        from: resource.address,
        to: attachment.volume,
        type: 'mount',
        key: attachment.mountPath,
      });
    }
    for (const [key, value] of Object.entries(resource.variables ?? {})) {
      if (value.type === 'reference') {
        edges.push({ from: resource.address, to: value.resource, type: 'variable', key });
      }
    }
  }
  return {
    version: RAILWAY_GRAPH_VERSION,
    project: { name: definition.name },
    environments: (definition.environments ?? []).map((name) => ({ name })),
    resources: [...resources, ...volumes],
    edges,
  };
}

/** The SDK's own graph validation (the CLI's too): version, unique addresses, edges that resolve. */
export function railwayGraphErrors(graph: RailwayGraph): string[] {
  return validateGraph(graph);
}

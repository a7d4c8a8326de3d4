import type { RailwayGraph } from 'railway/iac';
import { checkRailway, railwayTargets } from './railway.ts';
import {
  compileRailwayGraph,
  evaluateRailwayProgram,
  RAILWAY_PROGRAM,
  railwayGraphErrors,
} from './railway-graph.ts';
import {
  checkRenderBlueprint,
  parseRenderBlueprint,
  RENDER_BLUEPRINT,
  readRenderBlueprint,
  renderTargets,
} from './render.ts';
import type { DeployTarget, Problem } from './targets.ts';

/** The Render Blueprint as deploy targets, with schema and Render-specific problems. */
export function loadRender(): { targets: DeployTarget[]; problems: Problem[] } {
  const { blueprint, problems } = parseRenderBlueprint(readRenderBlueprint());
  if (!blueprint) return { targets: [], problems };
  return {
    targets: renderTargets(blueprint),
    problems: checkRenderBlueprint(blueprint, RENDER_BLUEPRINT),
  };
}

/**
 * The repository the checks evaluate the Railway program for. The program reads it from
 * GITHUB_REPOSITORY (or the checkout's origin); any GitHub repository yields the same services.
 */
export const CHECKED_REPOSITORY = 'example/jobstack';

let railway: { graph?: RailwayGraph; targets: DeployTarget[]; problems: Problem[] } | undefined;

/**
 * The Railway program evaluated as the Railway CLI evaluates it, compiled to the graph the CLI
 * plans with and validated by the SDK, as deploy targets with the Railway-specific problems.
 * Evaluated once per test file: it runs a Node process.
 */
export function loadRailway(): {
  graph?: RailwayGraph;
  targets: DeployTarget[];
  problems: Problem[];
} {
  if (railway) return railway;
  const evaluated = evaluateRailwayProgram({ GITHUB_REPOSITORY: CHECKED_REPOSITORY });
  if ('error' in evaluated) {
    railway = {
      targets: [],
      problems: [{ file: RAILWAY_PROGRAM, name: '-', message: evaluated.error }],
    };
    return railway;
  }
  const graph = compileRailwayGraph(evaluated.definition);
  const invalid = railwayGraphErrors(graph).map((message) => ({
    file: RAILWAY_PROGRAM,
    name: '-',
    message: `the Railway SDK rejects the graph: ${message}`,
  }));
  railway = {
    graph,
    targets: railwayTargets(graph),
    problems: [...invalid, ...checkRailway(graph)],
  };
  return railway;
}

import {
  checkRailway,
  parseRailwayConfig,
  parseRailwayVariables,
  RAILWAY_VARIABLES,
  railwayConfigFiles,
  railwayTargets,
  readJson,
} from './railway.ts';
import {
  checkRenderBlueprint,
  parseRenderBlueprint,
  RENDER_BLUEPRINT,
  readRenderBlueprint,
  renderTargets,
} from './render.ts';
import type { RailwayConfig } from './schemas/railway.ts';
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

/** The Railway configs and variables as deploy targets, with schema and Railway-specific problems. */
export function loadRailway(): { targets: DeployTarget[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const configs = new Map<string, RailwayConfig>();
  for (const file of railwayConfigFiles()) {
    const parsed = parseRailwayConfig(readJson(file), file);
    problems.push(...parsed.problems);
    if (parsed.config) configs.set(file, parsed.config);
  }
  const parsedVariables = parseRailwayVariables(readJson(RAILWAY_VARIABLES));
  problems.push(...parsedVariables.problems);
  if (!parsedVariables.variables) return { targets: [], problems };
  problems.push(...checkRailway(configs, parsedVariables.variables));
  return { targets: railwayTargets(configs, parsedVariables.variables), problems };
}

import type { ServiceName } from '@repo/env-reference';

/**
 * How a deploy file provides one variable:
 * - `literal`: a value written in the file;
 * - `generated`: the platform generates a random secret (Render generateValue);
 * - `prompted`: the platform asks for it at setup (Render sync: false);
 * - `reference`: another resource's value (Render fromDatabase/fromService, Railway ${{...}}).
 */
export type EnvSource =
  | { kind: 'literal'; value: string }
  | { kind: 'generated' }
  | { kind: 'prompted' }
  | { kind: 'reference'; to: string };

/**
 * One running process described by a deploy file, in a shape shared by compose, Render and
 * Railway so every cross-check is written once.
 */
export interface DeployTarget {
  platform: 'compose' | 'render' | 'railway';
  /** Repo-relative file that describes it, e.g. "infra/render.yaml", ".railway/railway.ts". */
  file: string;
  /** The service's name in that file, e.g. "jobstack-api". */
  name: string;
  /** The environment the process loads (api, worker, beat or migrate: @repo/env-reference). */
  service: ServiceName;
  env: Map<string, EnvSource>;
  /** Repo-relative Dockerfile and build context, when the file builds an image. */
  build?: { dockerfile: string; context: string };
  /** Seconds between SIGTERM and SIGKILL on this platform, when the file sets or implies it. */
  shutdownWindowSeconds?: number;
  /**
   * The HTTP path the platform probes before it routes traffic to a new instance, and whether it
   * keeps probing afterwards and restarts an instance that fails (Render), or probes only while a
   * deploy starts (Railway).
   */
  healthCheck?: { path: string; restartsFailingInstances: boolean };
  /** Command the platform runs before the new version starts (migrations). */
  preDeployCommand?: string[];
  /** Paths whose changes trigger a build (Render buildFilter.paths, Railway watchPatterns). */
  buildPaths?: string[];
  buildIgnoredPaths?: string[];
}

export interface Problem {
  file: string;
  /** The service in that file the problem is about, or "-" for the file as a whole. */
  name: string;
  message: string;
}

export function formatProblem(p: Problem): string {
  return `${p.file}: ${p.name === '-' ? '' : `service "${p.name}": `}${p.message}`;
}

/** Fails with every problem listed, one per line, so a drift names file, service and variable. */
export function assertNoProblems(problems: readonly Problem[]): void {
  if (problems.length === 0) return;
  throw new Error(
    `${problems.length} problem(s):\n${problems.map((p) => `  - ${formatProblem(p)}`).join('\n')}`,
  );
}

/** The app an image-building service runs, from its name: "api" or "<anything>-api". */
export function serviceOfName(name: string, services: readonly string[]): ServiceName | undefined {
  return services.find((s) => name === s || name.endsWith(`-${s}`)) as ServiceName | undefined;
}

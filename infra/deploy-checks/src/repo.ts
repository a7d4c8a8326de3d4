import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ServiceName, serviceEnvs } from '@repo/env-reference';

/** The repository root; every path these checks report is relative to it. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export function repoPath(relative: string): string {
  return path.join(repoRoot, relative);
}

export function existsInRepo(relative: string): boolean {
  return existsSync(repoPath(relative));
}

/** Whether a repo-relative path is a file of the repository (not a directory, not missing). */
export function isRepoFile(relative: string): boolean {
  return existsInRepo(relative) && statSync(repoPath(relative)).isFile();
}

export function readRepoFile(relative: string): string {
  return readFileSync(repoPath(relative), 'utf8');
}

/**
 * A path as written in a deploy file ("./apps/api/Dockerfile", "/apps/api/Dockerfile", ".")
 * normalised to repo-relative form ("apps/api/Dockerfile", "."). `null` when it leaves the repo.
 */
export function normalizeRepoPath(written: string): string | null {
  const trimmed = written.replace(/^\/+/, '');
  const normalized = path.posix.normalize(trimmed === '' ? '.' : trimmed);
  if (normalized.startsWith('..')) return null;
  return normalized.replace(/\/$/, '') || '.';
}

/** Repo-relative form of an absolute path (what `docker compose config` prints). */
export function relativeToRepo(absolute: string): string | null {
  const relative = path.relative(repoRoot, absolute);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return null;
  return relative === '' ? '.' : relative.split(path.sep).join('/');
}

export interface WorkspacePackage {
  name: string;
  /** Repo-relative directory, e.g. "packages/config". */
  dir: string;
  manifest: PackageManifest;
}

export interface PackageManifest {
  name: string;
  scripts?: Record<string, string>;
  bin?: string | Record<string, string>;
  files?: string[];
  exports?: unknown;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

export function readManifest(dir: string): PackageManifest {
  return JSON.parse(readRepoFile(path.posix.join(dir, 'package.json'))) as PackageManifest;
}

/** Every workspace package, from the globs in pnpm-workspace.yaml (only "dir/*" and "dir" forms). */
export function workspacePackages(): Map<string, WorkspacePackage> {
  const globs = [...readRepoFile('pnpm-workspace.yaml').matchAll(/^\s+-\s+["']?([^"'\s#]+)/gm)]
    .map((m) => m[1] ?? '')
    .filter((g) => g !== '' && !g.startsWith('!'));
  const dirs = new Set<string>();
  for (const glob of globs) {
    if (glob.endsWith('/*')) {
      const parent = glob.slice(0, -2);
      if (!existsInRepo(parent)) continue;
      for (const entry of readdirSync(repoPath(parent))) {
        const dir = `${parent}/${entry}`;
        if (statSync(repoPath(dir)).isDirectory() && existsInRepo(`${dir}/package.json`)) {
          dirs.add(dir);
        }
      }
    } else if (existsInRepo(`${glob}/package.json`)) {
      dirs.add(glob);
    }
  }
  const packages = new Map<string, WorkspacePackage>();
  for (const dir of dirs) {
    const manifest = readManifest(dir);
    packages.set(manifest.name, { name: manifest.name, dir, manifest });
  }
  return packages;
}

/**
 * The workspace packages an app is built from: its workspace dependencies of every kind,
 * transitively — the same set `turbo prune <app>` keeps — excluding the app itself.
 */
export function workspaceDependencyClosure(
  packageName: string,
  packages = workspacePackages(),
): WorkspacePackage[] {
  const seen = new Set<string>([packageName]);
  const queue = [packageName];
  const result: WorkspacePackage[] = [];
  while (queue.length > 0) {
    const current = packages.get(queue.shift() ?? '');
    if (!current) continue;
    const deps = { ...current.manifest.dependencies, ...current.manifest.devDependencies };
    for (const [name, range] of Object.entries(deps)) {
      if (!range.startsWith('workspace:') || seen.has(name)) continue;
      seen.add(name);
      const dep = packages.get(name);
      if (dep) {
        result.push(dep);
        queue.push(name);
      }
    }
  }
  return result.sort((a, b) => a.dir.localeCompare(b.dir));
}

/** A deployable app: a directory under apps/ whose name is a service of @repo/env-reference. */
export interface App {
  name: ServiceName;
  dir: string;
  packageName: string;
  dockerfile: string;
}

/** The apps this repository deploys, read from apps/ (not a list kept here). */
export function deployableApps(): App[] {
  return readdirSync(repoPath('apps'))
    .filter((entry) => existsInRepo(`apps/${entry}/package.json`))
    .sort()
    .map((entry) => {
      if (!(entry in serviceEnvs)) {
        throw new Error(
          `apps/${entry} has no environment in @repo/env-reference (serviceEnvs): every deployed app needs one`,
        );
      }
      return {
        name: entry as ServiceName,
        dir: `apps/${entry}`,
        packageName: readManifest(`apps/${entry}`).name,
        dockerfile: `apps/${entry}/Dockerfile`,
      };
    });
}

export function appNamed(name: string): App | undefined {
  return deployableApps().find((app) => app.name === name);
}

/**
 * Root files that decide what every image contains: a change to any of them must rebuild and
 * redeploy every app (the lockfile and workspace manifest feed `turbo prune`; .dockerignore shapes
 * the context; .node-version and turbo.json decide the toolchain and the build graph).
 */
export const SHARED_BUILD_INPUTS = [
  'package.json',
  'pnpm-lock.yaml',
  'pnpm-workspace.yaml',
  'turbo.json',
  '.node-version',
  '.dockerignore',
] as const;

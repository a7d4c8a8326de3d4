// What the `app` generator derives from the repository. Its edits of the files that list the
// deployed apps are file-edits.ts's.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Names taken by something else an app's name would collide with: the worker's queue (`jobs`: a
 * second consumer of it would take the worker's jobs), the other compose services, and the
 * Railway program's own variables.
 */
const TAKEN_NAMES = new Set([
  'jobs',
  'migrate',
  'postgres',
  'redis',
  'proxy',
  'prometheus',
  'grafana',
  'db',
  'queue',
  'source',
  'shared',
  'ctx',
]);

/** The apps under apps/ (directories with a package.json). */
export function existingApps(root: string): string[] {
  return readdirSync(join(root, 'apps'))
    .filter((entry) => existsSync(join(root, 'apps', entry, 'package.json')))
    .sort();
}

/** Why `name` cannot be a new app, or true. */
export function validateAppName(root: string, name: string): true | string {
  if (!/^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/.test(name)) {
    return 'expected lower case letters and digits, words joined by single dashes (e.g. mailer)';
  }
  if (existingApps(root).includes(name)) return `apps/${name} exists already`;
  if (TAKEN_NAMES.has(name)) {
    return `"${name}" is taken: by the worker's queue, a compose service or the Railway program`;
  }
  return true;
}

/**
 * The default HEALTH_PORT of the next app: one above the highest port an app's image exposes
 * (api 8000, worker 8001, beat 8002, …), so that every app runs beside the others in development.
 */
export function nextHealthPort(root: string): number {
  const exposed = existingApps(root).flatMap((app) => {
    const dockerfile = join(root, 'apps', app, 'Dockerfile');
    if (!existsSync(dockerfile)) return [];
    return [...readFileSync(dockerfile, 'utf8').matchAll(/^EXPOSE (\d+)/gm)].map((m) =>
      Number(m[1]),
    );
  });
  return Math.max(7999, ...exposed) + 1;
}

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

/** Every workspace package's directory by package name, from pnpm-workspace.yaml's globs. */
function workspaceDirs(root: string): Map<string, string> {
  const workspace = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8');
  const globs = [...workspace.matchAll(/^\s+-\s+["']?([^"'\s#]+)/gm)]
    .map((match) => match[1] ?? '')
    .filter((glob) => glob !== '' && !glob.startsWith('!'));
  const dirs = globs.flatMap((glob) => {
    if (!glob.endsWith('/*')) return [glob];
    const parent = glob.slice(0, -2);
    if (!existsSync(join(root, parent))) return [];
    return readdirSync(join(root, parent))
      .map((entry) => `${parent}/${entry}`)
      .filter((dir) => statSync(join(root, dir)).isDirectory());
  });
  const byName = new Map<string, string>();
  for (const dir of dirs) {
    const file = join(root, dir, 'package.json');
    if (existsSync(file))
      byName.set((JSON.parse(readFileSync(file, 'utf8')) as Manifest).name, dir);
  }
  return byName;
}

/**
 * What must trigger a build of the app's image, as directories: the app, every workspace package
 * it is built from (its workspace dependencies of every kind, transitively: what `turbo prune`
 * keeps) and the shared build steps its Dockerfile runs (tooling/docker). infra/deploy-checks
 * derives the same set and fails a build filter that misses one.
 */
export function buildDirectories(root: string, appDir: string): string[] {
  const dirs = workspaceDirs(root);
  const manifest = (dir: string) =>
    JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as Manifest;
  const found = new Set<string>(['tooling/docker']);
  const queue = [appDir];
  while (queue.length > 0) {
    const { dependencies, devDependencies } = manifest(queue.shift() ?? '');
    for (const [name, range] of Object.entries({ ...dependencies, ...devDependencies })) {
      const dir = dirs.get(name);
      if (!range.startsWith('workspace:') || !dir || found.has(dir)) continue;
      found.add(dir);
      queue.push(dir);
    }
  }
  return [appDir, ...[...found].sort()];
}

/** Adds a workspace dependency to a package.json, keeping the dependencies sorted. */
export function addWorkspaceDependency(root: string, file: string, name: string): string {
  const path = join(root, file);
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  const dependencies = { ...manifest.dependencies, [name]: 'workspace:*' };
  manifest.dependencies = Object.fromEntries(
    Object.entries(dependencies).sort(([a], [b]) => a.localeCompare(b)),
  );
  writeFileSync(path, `${JSON.stringify(manifest, null, 2)}\n`);
  return file;
}

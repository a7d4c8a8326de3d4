import { runsAsProduction } from '@repo/config';
import {
  describeServiceEnv,
  requiredInProduction,
  type ServiceName,
  serviceEnvs,
} from '@repo/env-reference';
import type { z } from 'zod';
import { dockerfileFinalEnv, dockerfileRepoFiles } from './dockerfile.ts';
import { matchesAny } from './glob.ts';
import {
  type App,
  deployableApps,
  existsInRepo,
  isRepoFile,
  readManifest,
  readRepoFile,
  SHARED_BUILD_INPUTS,
  type WorkspacePackage,
  workspaceDependencyClosure,
  workspacePackages,
} from './repo.ts';
import type { DeployTarget, Problem } from './targets.ts';

/** The package that owns the schema and ships the migrate command. */
export const MIGRATIONS_PACKAGE = '@repo/db';

/**
 * Seconds a platform must allow beyond SHUTDOWN_TIMEOUT: @repo/lifecycle exits at the latest
 * 2 s after it, and closing Redis and PostgreSQL plus process exit need a little more.
 */
export const SHUTDOWN_MARGIN_SECONDS = 5;

/** The image a service runs in: the migrate command ships in the api's image. */
export function imageAppOf(service: ServiceName): ServiceName {
  return service === 'migrate' ? 'api' : service;
}

function literal(target: DeployTarget, key: string): string | undefined {
  const source = target.env.get(key);
  return source?.kind === 'literal' ? source.value : undefined;
}

/** NODE_ENV as the process sees it: set by the deploy file, else by the image (ENV), else unset. */
export function effectiveNodeEnv(target: DeployTarget): string | undefined {
  const written = literal(target, 'NODE_ENV');
  if (written !== undefined) return written;
  const dockerfile = `apps/${imageAppOf(target.service)}/Dockerfile`;
  return existsInRepo(dockerfile)
    ? dockerfileFinalEnv(readRepoFile(dockerfile)).get('NODE_ENV')
    : undefined;
}

/**
 * Every variable the service's config schema requires is provided. Production requirements apply
 * wherever the process runs as production: NODE_ENV=production written in the file or set by the
 * image, or no NODE_ENV at all (which the config reads as production).
 */
export function checkRequiredVariables(targets: readonly DeployTarget[]): Problem[] {
  const problems: Problem[] = [];
  for (const target of targets) {
    const production = runsAsProduction(effectiveNodeEnv(target));
    const required = production
      ? requiredInProduction(target.service)
      : describeServiceEnv(target.service)
          .filter((v) => v.required === 'always')
          .map((v) => v.name);
    for (const variable of required) {
      if (!target.env.has(variable)) {
        problems.push({
          file: target.file,
          name: target.name,
          message: `does not provide ${variable}, which the ${target.service} config requires${production ? ' in production' : ''} (docs/environment.md)`,
        });
      }
    }
  }
  return problems;
}

/** Platforms say NODE_ENV=production outright rather than leave production to the default. */
export function checkProductionMode(targets: readonly DeployTarget[]): Problem[] {
  return targets
    .filter((t) => t.platform !== 'compose' && literal(t, 'NODE_ENV') !== 'production')
    .map((t) => ({
      file: t.file,
      name: t.name,
      message: 'NODE_ENV is not "production"',
    }));
}

/** A secret (per its schema metadata) is never written into a platform file. */
export function checkSecretsNotCommitted(targets: readonly DeployTarget[]): Problem[] {
  const problems: Problem[] = [];
  for (const target of targets) {
    if (target.platform === 'compose') continue;
    for (const variable of describeServiceEnv(target.service).filter((v) => v.secret)) {
      if (target.env.get(variable.name)?.kind === 'literal') {
        problems.push({
          file: target.file,
          name: target.name,
          message: `the secret ${variable.name} is written as a value; generate it, prompt for it, or reference it`,
        });
      }
    }
  }
  return problems;
}

/** Every variable a target sets is one its config schema reads, so a renamed one cannot linger. */
export function checkNoUnknownVariables(targets: readonly DeployTarget[]): Problem[] {
  const problems: Problem[] = [];
  for (const target of targets) {
    // The pre-deploy target shares the service's variables; those are checked there.
    if (target.name.endsWith('(preDeployCommand)')) continue;
    const known = new Set(describeServiceEnv(target.service).map((v) => v.name));
    for (const key of target.env.keys()) {
      if (!known.has(key)) {
        problems.push({
          file: target.file,
          name: target.name,
          message: `sets ${key}, which the ${target.service} config does not read`,
        });
      }
    }
  }
  return problems;
}

/**
 * Variables whose values must agree between the services of one deployment: the apps meet in the
 * same PostgreSQL database and the same Redis queues, or jobs are enqueued where nobody works.
 */
export const SHARED_VARIABLES = ['DATABASE_URL', 'REDIS_URL', 'QUEUE_PREFIX'] as const;

function describeSource(target: DeployTarget, key: string): string {
  const source = target.env.get(key);
  if (source === undefined) {
    const fallback = describeServiceEnv(target.service).find((v) => v.name === key)?.default;
    return fallback === undefined ? 'unset' : `default ${fallback}`;
  }
  if (source.kind === 'literal') return `"${source.value}"`;
  if (source.kind === 'reference') return source.to;
  return source.kind;
}

export function checkSharedValuesAgree(targets: readonly DeployTarget[]): Problem[] {
  const problems: Problem[] = [];
  // The migrate step connects as the owner on purpose (the apps as their least-privilege role),
  // and it enqueues nothing.
  const byFile = Map.groupBy(
    targets.filter((t) => !t.name.endsWith('(preDeployCommand)') && t.service !== 'migrate'),
    (t) => `${t.platform} ${t.file}`,
  );
  for (const group of byFile.values()) {
    for (const key of SHARED_VARIABLES) {
      const readers = group.filter((t) =>
        describeServiceEnv(t.service).some((v) => v.name === key),
      );
      const values = new Map(readers.map((t) => [t.name, describeSource(t, key)]));
      if (new Set(values.values()).size > 1) {
        const [first] = readers;
        problems.push({
          file: first ? first.file : '-',
          name: [...values.keys()].join(', '),
          message: `${key} differs between services: ${[...values].map(([n, v]) => `${n}: ${v}`).join('; ')}`,
        });
      }
    }
  }
  return problems;
}

/**
 * The phases of a stop, in order, each a duration variable of the config: an app that reads one
 * spends up to its value between SIGTERM and exiting (in-flight work gets SHUTDOWN_TIMEOUT). A
 * variable a service does not read is skipped; one it reads but the file leaves unset counts with
 * its default.
 */
export const SHUTDOWN_PHASE_VARIABLES = ['SHUTDOWN_DRAIN_DELAY', 'SHUTDOWN_TIMEOUT'] as const;

/** The platform's SIGTERM→SIGKILL window outlasts every phase of the app's stop. */
export function checkShutdownWindow(
  targets: readonly DeployTarget[],
  phaseVariables: readonly string[] = SHUTDOWN_PHASE_VARIABLES,
): Problem[] {
  const problems: Problem[] = [];
  for (const target of targets) {
    if (target.service === 'migrate') continue;
    const shape = serviceEnvs[target.service].shape as Record<string, z.ZodType>;
    const phases: { variable: string; ms: number }[] = [];
    for (const variable of phaseVariables) {
      const schema = shape[variable];
      if (!schema) continue;
      const written = literal(target, variable);
      const parsed = schema.safeParse(written);
      if (!parsed.success || typeof parsed.data !== 'number') {
        problems.push({
          file: target.file,
          name: target.name,
          message: `${variable} "${written}" is not a valid duration`,
        });
        continue;
      }
      phases.push({ variable, ms: parsed.data });
    }
    if (phases.length === 0) continue;
    const totalMs = phases.reduce((sum, phase) => sum + phase.ms, 0);
    const needed = Math.ceil(totalMs / 1000) + SHUTDOWN_MARGIN_SECONDS;
    const window = target.shutdownWindowSeconds;
    if (window === undefined || window < needed) {
      const spent = phases.map((p) => `${p.variable} is ${p.ms / 1000} s`).join(', ');
      problems.push({
        file: target.file,
        name: target.name,
        message: `allows ${window ?? 'an unknown number of'} s between SIGTERM and SIGKILL, but ${spent}: give it at least ${needed} s`,
      });
    }
  }
  return problems;
}

/** A Dockerfile "belongs" to an app when it names the app's package and no other app's. */
export function dockerfileProblems(dockerfile: string, app: App, apps: readonly App[]): string[] {
  if (!existsInRepo(dockerfile)) return [`${dockerfile} does not exist`];
  const text = readRepoFile(dockerfile)
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n');
  const problems: string[] = [];
  const names = (a: App) => [a.packageName, a.dir];
  if (!names(app).some((n) => text.includes(n))) {
    problems.push(
      `${dockerfile} does not build ${app.packageName} (neither it nor ${app.dir} appears in it)`,
    );
  }
  for (const other of apps) {
    if (other.name === app.name) continue;
    const mentioned = names(other).find((n) =>
      new RegExp(`${escapeRegExp(n)}(?![\\w-])`).test(text),
    );
    if (mentioned) problems.push(`${dockerfile} refers to ${mentioned}, another app`);
  }
  return problems;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Each image is built from the repo root with its own app's Dockerfile. */
export function checkBuilds(targets: readonly DeployTarget[], apps = deployableApps()): Problem[] {
  const problems: Problem[] = [];
  for (const target of targets) {
    if (!target.build) continue;
    const app = apps.find((a) => a.name === imageAppOf(target.service));
    if (!app) {
      problems.push({
        file: target.file,
        name: target.name,
        message: `no app ships the ${target.service} service`,
      });
      continue;
    }
    if (target.build.context !== '.') {
      problems.push({
        file: target.file,
        name: target.name,
        message: `builds with context "${target.build.context}"; the Dockerfiles need the repository root (.)`,
      });
    }
    if (target.build.dockerfile !== app.dockerfile) {
      problems.push({
        file: target.file,
        name: target.name,
        message: `builds ${target.build.dockerfile}, but ${target.service} runs from ${app.dockerfile}`,
      });
      continue;
    }
    for (const message of dockerfileProblems(target.build.dockerfile, app, apps)) {
      problems.push({ file: target.file, name: target.name, message });
    }
  }
  return problems;
}

/**
 * What must trigger a build of an app: its directory, every workspace package it is built from,
 * the repository files its Dockerfile copies or runs by name (the shared build steps in
 * tooling/docker), and the root files that shape every image. Sample paths stand for a
 * directory's files.
 */
export function buildInputsOf(app: App, packages = workspacePackages()): string[] {
  const dirs = [
    app.dir,
    ...workspaceDependencyClosure(app.packageName, packages).map((p) => p.dir),
  ];
  const named = existsInRepo(app.dockerfile)
    ? dockerfileRepoFiles(readRepoFile(app.dockerfile), isRepoFile)
    : [];
  return [
    ...dirs.flatMap((dir) => [`${dir}/package.json`, `${dir}/src/index.ts`]),
    app.dockerfile,
    ...named,
    ...SHARED_BUILD_INPUTS,
  ].filter((input, index, all) => all.indexOf(input) === index);
}

/** Build filters / watch patterns: everything the image is built from, and no other app. */
export function checkBuildPaths(
  targets: readonly DeployTarget[],
  apps = deployableApps(),
  packages = workspacePackages(),
): Problem[] {
  const problems: Problem[] = [];
  for (const target of targets) {
    if (target.platform === 'compose' || !target.build) continue;
    const app = apps.find((a) => a.name === imageAppOf(target.service));
    if (!app) continue;
    if (!target.buildPaths) {
      problems.push({
        file: target.file,
        name: target.name,
        message: 'has no build paths: every commit, to any app, would redeploy it',
      });
      continue;
    }
    const ignored = target.buildIgnoredPaths ?? [];
    const inputs = buildInputsOf(app, packages);
    for (const input of inputs) {
      if (!matchesAny(input, target.buildPaths) || matchesAny(input, ignored)) {
        problems.push({
          file: target.file,
          name: target.name,
          message: `a change to ${input} would not trigger a build, but the image is built from it`,
        });
      }
    }
    for (const other of apps) {
      if (other.name === app.name) continue;
      const sample = `${other.dir}/src/main.ts`;
      if (matchesAny(sample, target.buildPaths) && !matchesAny(sample, ignored)) {
        problems.push({
          file: target.file,
          name: target.name,
          message: `a change to ${other.dir} (another app) would trigger a build of ${app.name}`,
        });
      }
    }
  }
  return problems;
}

/** A file a package ships as dist/<x>.js is built from src/<x>.ts. */
function sourceOfDist(pkg: WorkspacePackage, distFile: string): string | undefined {
  const match = /^(?:\.\/)?dist\/(.+)\.js$/.exec(distFile);
  if (!match) return undefined;
  const source = `${pkg.dir}/src/${match[1]}.ts`;
  return existsInRepo(source) ? source : undefined;
}

export interface ResolvedCommand {
  package: string;
  /** The source file the command runs once built. */
  source: string;
  /** The package's bin (package.json "bin") that the command runs, if it runs one. */
  bin?: string;
}

function binsOf(pkg: WorkspacePackage): Map<string, string> {
  const bins = pkg.manifest.bin;
  if (!bins) return new Map();
  const entries =
    typeof bins === 'string' ? [[pkg.name.split('/').pop() ?? '', bins]] : Object.entries(bins);
  return new Map(entries.map(([name, file]) => [name ?? '', (file ?? '').replace(/^\.\//, '')]));
}

/**
 * Resolves a command run in an app's image (working directory = the deployed app, where its
 * production node_modules are) to a workspace package's file, or says why it cannot.
 * Forms: `node dist/<file>` (the app itself), `node node_modules/<pkg>/<file> ...`,
 * `node_modules/.bin/<bin> ...` and `<bin> ...`.
 */
export function resolveImageCommand(
  argv: readonly string[],
  app: App,
  packages = workspacePackages(),
): ResolvedCommand | { error: string } {
  // `node --import <file> … <entry>`: each preloaded file (the apps' dist/tracing.js) must be in
  // the image like the entry; the entry is what the command starts
  if (argv[0] === 'node' && argv[1] === '--import') {
    const preload = argv[2] ?? '';
    const resolved = resolveImageCommand(['node', preload], app, packages);
    if ('error' in resolved) return { error: `--import ${preload}: ${resolved.error}` };
    return resolveImageCommand(['node', ...argv.slice(3)], app, packages);
  }
  const manifest = readManifest(app.dir);
  const deps = Object.keys(manifest.dependencies ?? {});
  const [first = '', second = ''] = argv;
  if (first === 'node' && /^(?:\.\/)?dist\//.test(second)) {
    const own = packages.get(app.packageName);
    if (!own) return { error: `${app.packageName} is not a workspace package` };
    if (!(manifest.files ?? []).includes('dist')) {
      return { error: `${app.packageName} does not ship dist (package.json "files")` };
    }
    const source = sourceOfDist(own, second);
    return source
      ? { package: app.packageName, source }
      : { error: `${app.dir} has no source for ${second}` };
  }
  if (first === 'node') {
    const match = /^(?:\.\/)?node_modules\/((?:@[^/]+\/)?[^/]+)\/(.+)$/.exec(second);
    if (!match) return { error: `"${second}" is not a file under node_modules/<package>/` };
    const [, name = '', file = ''] = match;
    const pkg = packages.get(name);
    if (!pkg) return { error: `${name} is not a workspace package` };
    if (!deps.includes(name)) {
      return {
        error: `${name} is not a production dependency of ${app.packageName}, so its image lacks it`,
      };
    }
    if (
      !(pkg.manifest.files ?? []).some(
        (f) => file === f || file.startsWith(`${f.replace(/\/$/, '')}/`),
      )
    ) {
      return { error: `${name} does not publish ${file} (package.json "files")` };
    }
    const source = sourceOfDist(pkg, file);
    if (!source) return { error: `${name} has no source for ${file}` };
    const bin = [...binsOf(pkg)].find(([, target]) => target === file)?.[0];
    return { package: name, source, ...(bin ? { bin } : {}) };
  }
  const bin = first.replace(/^(?:\.\/)?node_modules\/\.bin\//, '');
  for (const name of deps) {
    const pkg = packages.get(name);
    const target = pkg && binsOf(pkg).get(bin);
    if (!pkg || !target) continue;
    const source = sourceOfDist(pkg, target);
    return source
      ? { package: name, source, bin }
      : { error: `${name}'s bin ${bin} points at ${target}, which has no source` };
  }
  return { error: `no production dependency of ${app.packageName} declares a bin named "${bin}"` };
}

/**
 * Why a command is not the migrate command: it must resolve, in the app's image, to a bin that
 * the migrations package declares (package.json "bin"), whichever way it is invoked.
 */
export function migrateCommandProblem(argv: readonly string[], app: App): string | undefined {
  const resolved = resolveImageCommand(argv, app);
  if ('error' in resolved) return resolved.error;
  if (resolved.package !== MIGRATIONS_PACKAGE || resolved.bin === undefined) {
    return `runs ${resolved.source}, not a bin of ${MIGRATIONS_PACKAGE} (its migrate command)`;
  }
  return undefined;
}

/** A service that reads the migration settings uses the schema (the api and the worker). */
export function needsSchema(service: ServiceName): boolean {
  return describeServiceEnv(service).some((v) => v.name === 'MIGRATE_ON_START');
}

/**
 * Every service that uses the schema migrates before its new version starts, with the migrations
 * package's migrate command from its own image: a change to packages/db deploys the api and the
 * worker in no fixed order, and whichever runs first applies the migrations (the advisory lock
 * makes the other wait, then find nothing to do). A service without the schema runs none.
 */
export function checkPreDeploy(
  targets: readonly DeployTarget[],
  apps = deployableApps(),
): Problem[] {
  const problems: Problem[] = [];
  for (const target of targets) {
    if (target.platform === 'compose' || target.service === 'migrate') continue;
    const app = apps.find((a) => a.name === target.service);
    if (!target.preDeployCommand) {
      if (needsSchema(target.service)) {
        problems.push({
          file: target.file,
          name: target.name,
          message: `has no pre-deploy command running the migrations, but the ${target.service} needs the schema`,
        });
      }
      continue;
    }
    if (!needsSchema(target.service) || !app) {
      problems.push({
        file: target.file,
        name: target.name,
        message: `runs a pre-deploy command, but the ${target.service} does not use the database`,
      });
      continue;
    }
    const problem = migrateCommandProblem(target.preDeployCommand, app);
    if (problem) {
      problems.push({
        file: target.file,
        name: target.name,
        message: `preDeployCommand "${target.preDeployCommand.join(' ')}": ${problem}`,
      });
    }
  }
  return problems;
}

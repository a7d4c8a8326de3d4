import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { SECRET_FILE_SUFFIX } from '@repo/config';
import { describeServiceEnv, type ServiceName, serviceEnvs } from '@repo/env-reference';
import { parse } from 'yaml';
import { readRepoFile, relativeToRepo, repoPath, repoRoot } from './repo.ts';
import type { DeployTarget, EnvSource, Problem } from './targets.ts';

export const COMPOSE_DIR = 'infra';

/** Every compose file in infra/: compose.yaml, compose.test.yaml, compose.dev.yaml, … */
export function composeFiles(): string[] {
  return readdirSync(repoPath(COMPOSE_DIR))
    .filter((f) => /^compose(\.[\w-]+)?\.ya?ml$/.test(f))
    .sort()
    .map((f) => `${COMPOSE_DIR}/${f}`);
}

/**
 * How the compose files are used: each stack is a list of files merged in order, interpolated
 * from an env file (the one its documentation tells users to start from). Variables the env file
 * leaves empty are secrets a user must fill in; the checks fill them with placeholders.
 */
export interface ComposeStack {
  name: string;
  files: string[];
  envFile?: string;
}

export const COMPOSE_STACKS: ComposeStack[] = [
  { name: 'full stack', files: ['infra/compose.yaml'], envFile: 'infra/.env.example' },
  {
    name: 'end-to-end test stack',
    files: ['infra/compose.yaml', 'infra/compose.test.yaml'],
    envFile: 'infra/compose.test.env',
  },
  { name: 'development services', files: ['infra/compose.dev.yaml'] },
];

/**
 * The file names infra/compose.yaml reads its `secrets:` from (what infra/generate-secrets.sh
 * writes), read from the file itself: no Docker needed.
 */
export function composeSecretFiles(): string[] {
  const doc = parse(readRepoFile(`${COMPOSE_DIR}/compose.yaml`)) as {
    secrets?: Record<string, { file?: string }>;
  };
  return Object.values(doc.secrets ?? {}).map(({ file = '' }) => file.split('/').pop() ?? '');
}

/** KEY=VALUE lines of an env file (comments and blank lines skipped, no quoting rules needed here). */
export function readEnvFile(file: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of readRepoFile(file).split('\n')) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (match?.[1]) values.set(match[1], (match[2] ?? '').trim());
  }
  return values;
}

const INSTALL_HINT = [
  'These checks parse every compose file with `docker compose config`, so they need the Docker CLI',
  'with the Compose v2 plugin (no engine is needed). Install it:',
  '  - Debian/Ubuntu: Docker’s apt repository, `apt-get install docker-ce-cli docker-compose-plugin`',
  '    (https://docs.docker.com/compose/install/linux/);',
  '  - on this project’s CI machines: `sudo ../shared/docker/provision.sh engine` (what .ci/run does);',
  '  - GitHub-hosted runners ship it.',
].join('\n');

/** `docker compose version`, or an error saying how to install the plugin. */
export function dockerComposeVersion(path = process.env.PATH ?? ''): string {
  const result = spawnSync('docker', ['compose', 'version', '--short'], {
    encoding: 'utf8',
    env: { ...cleanEnv({}), PATH: path },
  });
  if (result.error || result.status !== 0) {
    const why = result.error
      ? `the docker CLI is not on PATH (${result.error.message})`
      : `\`docker compose\` is not available: ${(result.stderr || result.stdout).trim()}`;
    throw new Error(`${why}\n${INSTALL_HINT}`);
  }
  const version = result.stdout.trim().replace(/^v/, '');
  const major = Number.parseInt(version, 10);
  if (!(major >= 2)) {
    throw new Error(`docker compose ${version} is older than v2.\n${INSTALL_HINT}`);
  }
  return version;
}

/**
 * Only what `docker compose` needs to run, plus the given variables: a variable that happens to be
 * set in the shell running the tests (DATABASE_URL, API_KEYS, …) must not decide whether a
 * compose file looks complete.
 */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const keep = ['PATH', 'HOME', 'DOCKER_CONFIG', 'DOCKER_HOST', 'XDG_RUNTIME_DIR', 'TMPDIR'];
  const env: NodeJS.ProcessEnv = {};
  for (const key of keep) if (process.env[key] !== undefined) env[key] = process.env[key];
  return { ...env, ...extra };
}

export interface ComposeService {
  image?: string;
  pull_policy?: string;
  build?: { context: string; dockerfile?: string };
  command?: string[] | null;
  entrypoint?: string[] | null;
  environment?: Record<string, string | null>;
  healthcheck?: { test?: string[]; disable?: boolean };
  stop_grace_period?: string;
  deploy?: { replicas?: number };
}

export interface ComposeProject {
  name: string;
  services: Record<string, ComposeService>;
}

/**
 * The fully resolved model of a compose file (`docker compose -f FILE config --format json`):
 * env files merged, variables interpolated, paths absolute. Throws with compose's own message when
 * the file does not parse or a required variable is missing.
 */
export function composeConfig(stack: ComposeStack): ComposeProject {
  dockerComposeVersion();
  const args = ['compose', ...stack.files.flatMap((f) => ['-f', repoPath(f)])];
  const env: Record<string, string> = {};
  if (stack.envFile) {
    args.push('--env-file', repoPath(stack.envFile));
    // The shell's environment wins over --env-file in compose: placeholders for the empty secrets.
    for (const [key, value] of readEnvFile(stack.envFile)) {
      if (value === '')
        env[key] = `placeholder-${key.toLowerCase().replaceAll('_', '-')}-0123456789abcdef`;
    }
  }
  args.push('config', '--format', 'json');
  const result = spawnSync('docker', args, {
    cwd: repoRoot,
    encoding: 'utf8',
    env: cleanEnv(env),
    maxBuffer: 16 * 1024 * 1024,
  });
  if (result.status !== 0) {
    throw new Error(
      `docker compose config rejected ${stack.files.join(' + ')}:\n${(result.stderr || result.stdout).trim()}`,
    );
  }
  return JSON.parse(result.stdout) as ComposeProject;
}

/** Go duration as compose prints it ("40s", "1m30s", "1h"), in seconds. */
export function parseComposeDuration(text: string): number | undefined {
  const match = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$/.exec(text);
  if (!match || text === '') return undefined;
  const [, h = '0', m = '0', s = '0', ms = '0'] = match;
  return Number(h) * 3600 + Number(m) * 60 + Number(s) + Number(ms) / 1000;
}

/** Docker's default stop timeout when stop_grace_period is unset. */
const COMPOSE_DEFAULT_STOP_SECONDS = 10;

/** The services of a compose project that run one of our config schemas (api, worker, beat, migrate). */
export function composeTargets(project: ComposeProject, file: string): DeployTarget[] {
  const targets: DeployTarget[] = [];
  for (const [name, svc] of Object.entries(project.services)) {
    if (!(name in serviceEnvs)) continue;
    const env = new Map<string, EnvSource>();
    for (const [key, value] of Object.entries(svc.environment ?? {})) {
      // `KEY:` with no value and no such variable in the environment passes nothing.
      if (value === null || value === '') continue;
      // <NAME>_FILE provides the secret NAME from a mounted file (packages/config secret-files)
      const fromFile = key.endsWith(SECRET_FILE_SUFFIX)
        ? key.slice(0, -SECRET_FILE_SUFFIX.length)
        : '';
      if (
        fromFile &&
        describeServiceEnv(name as ServiceName).some((v) => v.name === fromFile && v.secret)
      ) {
        env.set(fromFile, { kind: 'reference', to: `file ${value}` });
      } else {
        env.set(key, { kind: 'literal', value });
      }
    }
    const context = svc.build ? relativeToRepo(svc.build.context) : undefined;
    targets.push({
      platform: 'compose',
      file,
      name,
      service: name as ServiceName,
      env,
      ...(svc.build
        ? {
            build: {
              context: context ?? svc.build.context,
              dockerfile: `${context === '.' || context == null ? '' : `${context}/`}${svc.build.dockerfile ?? 'Dockerfile'}`,
            },
          }
        : {}),
      shutdownWindowSeconds: svc.stop_grace_period
        ? parseComposeDuration(svc.stop_grace_period)
        : COMPOSE_DEFAULT_STOP_SECONDS,
    });
  }
  return targets;
}

/** The Redis of a compose file runs with noeviction (BullMQ loses jobs and locks otherwise). */
export function checkComposeRedis(project: ComposeProject, file: string): Problem[] {
  const problems: Problem[] = [];
  for (const [name, svc] of Object.entries(project.services)) {
    const image = svc.image ?? '';
    if (!/(^|\/)(redis|valkey)(:|$)/.test(image)) continue;
    const command = [...(svc.entrypoint ?? []), ...(svc.command ?? [])].join(' ');
    if (!/--maxmemory-policy[ =]noeviction\b/.test(command)) {
      problems.push({
        file,
        name,
        message: 'Redis does not run with --maxmemory-policy noeviction',
      });
    }
  }
  return problems;
}

/**
 * Images the stack builds are neither pulled nor built twice: a service that builds has
 * pull_policy build or never (the default, missing, asks a registry for jobstack-* first), and
 * one image is built by one service, which the others that run it name without building it.
 */
export function checkComposeBuilds(project: ComposeProject, file: string): Problem[] {
  const problems: Problem[] = [];
  const builders = new Map<string, string[]>();
  for (const [name, svc] of Object.entries(project.services)) {
    if (!svc.build) continue;
    if (svc.pull_policy !== 'build' && svc.pull_policy !== 'never') {
      problems.push({
        file,
        name,
        message: `builds ${svc.image ?? 'its image'} but has pull_policy ${svc.pull_policy ?? 'missing (the default)'}: Compose asks a registry for it first; use build or never`,
      });
    }
    if (svc.image) builders.set(svc.image, [...(builders.get(svc.image) ?? []), name]);
  }
  for (const [image, names] of builders) {
    if (names.length > 1) {
      problems.push({
        file,
        name: names.join(', '),
        message: `each build ${image}: build it in one service and let the others name the image`,
      });
    }
  }
  for (const [name, svc] of Object.entries(project.services)) {
    if (svc.build || !svc.image || !builders.has(svc.image)) continue;
    if (svc.pull_policy !== 'never') {
      problems.push({
        file,
        name,
        message: `runs ${svc.image}, which the stack builds, with pull_policy ${svc.pull_policy ?? 'missing (the default)'}: use never`,
      });
    }
  }
  return problems;
}

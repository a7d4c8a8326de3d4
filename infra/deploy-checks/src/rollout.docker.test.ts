import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRepoFile, repoPath } from './repo.ts';

// infra/rollout.sh against a small compose project shaped like infra/compose.yaml's worker
// (`depends_on` a healthy service, `deploy.replicas` from a variable, a health check), built from
// the apps' base image so that it needs no registry. The end-to-end test runs the script against
// the real stack; this one runs in seconds and shows why a plain `up` once recreated the
// containers the script had just started (docker/compose#12069: `up --no-deps` left depends_on
// out of the config-hash label of the containers it created).

/** The apps' base image (apps/worker/Dockerfile's NODE_IMAGE default), already on every host. */
function baseImage(): string {
  const image = /^ARG NODE_IMAGE=(\S+)/m.exec(readRepoFile('apps/worker/Dockerfile'))?.[1];
  if (!image) throw new Error('apps/worker/Dockerfile has no ARG NODE_IMAGE=<default>');
  return image;
}

const image = baseImage();
const scratch = mkdtempSync(path.join(tmpdir(), 'rollout-'));
const composeFile = path.join(scratch, 'compose.yaml');
const project = `rollout-check-${process.pid}`;
const composeOptions = ['--project-name', project, '--file', composeFile];
const REPLICAS = 2;

writeFileSync(
  composeFile,
  `services:
  dependency:
    image: ${image}
    command: ["sleep", "infinity"]
    stop_signal: SIGKILL
    healthcheck: { test: ["CMD", "true"], interval: 30s, start_period: 30s, start_interval: 1s }
  app:
    image: ${image}
    command: ["sleep", "infinity"]
    stop_signal: SIGKILL
    environment:
      RELEASE: \${RELEASE:?}
    healthcheck: { test: ["CMD", "true"], interval: 30s, start_period: 30s, start_interval: 1s }
    depends_on:
      dependency: { condition: service_healthy }
    deploy:
      replicas: \${REPLICAS:-1}
`,
);

function run(command: string, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    env: { ...process.env, REPLICAS: String(REPLICAS), ROLLOUT_SETTLE_SECONDS: '0', ...env },
    timeout: 5 * 60_000,
  });
  const output = `${result.stdout}${result.stderr}${result.error ?? ''}`;
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}:\n${output}`);
  }
  return result.stdout;
}

const compose = (args: string[], env: Record<string, string>) =>
  run('docker', ['compose', ...composeOptions, ...args], env);
const running = (service: string) =>
  compose(['ps', '--quiet', '--status', 'running', service], { RELEASE: 'any' })
    .split('\n')
    .filter((id) => id !== '')
    .sort();
const inspect = (id: string, format: string) =>
  run('docker', ['inspect', '--format', format, id]).trim();

describe(`infra/rollout.sh (a compose project on ${image})`, () => {
  beforeAll(() => {
    compose(['up', '--detach', '--wait', '--wait-timeout', '120'], { RELEASE: 'old' });
  }, 5 * 60_000);

  afterAll(() => {
    spawnSync('docker', ['compose', ...composeOptions, 'down', '--timeout', '0'], {
      env: { ...process.env, RELEASE: 'any' },
    });
    rmSync(scratch, { recursive: true, force: true });
  });

  it(
    'replaces every container of the service, and a plain `up` afterwards keeps the new ones and the dependency',
    () => {
      const old = running('app');
      expect(old).toHaveLength(REPLICAS);
      const [dependency = ''] = running('dependency');
      const dependencyStarted = inspect(dependency, '{{.State.StartedAt}}');

      run(repoPath('infra/rollout.sh'), [...composeOptions, 'app'], { RELEASE: 'new' });
      const rolledOut = running('app');
      expect(rolledOut).toHaveLength(REPLICAS);
      expect(rolledOut.filter((id) => old.includes(id))).toEqual([]);
      for (const id of rolledOut) {
        expect(inspect(id, '{{json .Config.Env}}')).toContain('"RELEASE=new"');
      }

      // the containers compose would create now carry the same config-hash label as the ones the
      // script started, so there is nothing for `up` to recreate
      compose(['up', '--detach', '--wait', '--wait-timeout', '120'], { RELEASE: 'new' });
      expect(running('app')).toEqual(rolledOut);
      expect(running('dependency')).toEqual([dependency]);
      expect(inspect(dependency, '{{.State.StartedAt}}')).toBe(dependencyStarted);
    },
    5 * 60_000,
  );
});

import { spawnSync } from 'node:child_process';
import { freePort, READY_DEADLINE_MS, TEST_DATABASE_URL, TEST_REDIS_URL } from '@repo/testing';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { readRepoFile, repoPath } from './repo.ts';

// infra/build.sh, which builds the compose stack's images with `docker compose build`: the image's
// version label is the app's package.json version, which the running app reports on /health
// too, and its revision label the checkout's git commit. Beat is the app built here: the
// smallest, and it starts with PostgreSQL and Redis only (the test's own, on the host network).

const app = 'beat';
const tag = `deploy-checks-${process.pid}`;
const image = `jobstack-${app}:${tag}`;
const container = `${app}-${tag}`;
const packageVersion = (JSON.parse(readRepoFile(`apps/${app}/package.json`)) as { version: string })
  .version;

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 30 * 60_000,
  });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} exited ${result.status}:\n${result.stderr}${result.error ?? ''}`,
    );
  }
  return result.stdout.trim();
}

describe(`infra/build.sh (jobstack-${app})`, () => {
  afterAll(() => {
    spawnSync('docker', ['rm', '--force', container]);
    spawnSync('docker', ['image', 'rm', image]);
  });

  it(
    "labels the image with the app's package.json version and the git commit; /health reports the same version",
    async () => {
      // VERSION and REVISION set wrong on purpose: the script's values win
      run(
        repoPath('infra/build.sh'),
        ['--file', repoPath('infra/compose.yaml'), '--project-name', tag, '--', app],
        { IMAGE_TAG: tag, VERSION: 'wrong', REVISION: 'wrong' },
      );
      const labels = JSON.parse(
        run('docker', ['image', 'inspect', '--format', '{{json .Config.Labels}}', image]),
      ) as Record<string, string>;
      expect(labels['org.opencontainers.image.version']).toBe(packageVersion);
      expect(labels['org.opencontainers.image.revision']).toBe(
        run('git', ['-C', repoPath('.'), 'rev-parse', 'HEAD']),
      );

      // the app in the image, against the test's PostgreSQL and Redis, on the host's network
      const port = String(await freePort());
      run('docker', [
        'run',
        '--detach',
        '--name',
        container,
        '--network',
        'host',
        '--env',
        `DATABASE_URL=${TEST_DATABASE_URL}`,
        '--env',
        `REDIS_URL=${TEST_REDIS_URL}`,
        '--env',
        `QUEUE_PREFIX=${tag}`,
        '--env',
        'HEALTH_HOST=127.0.0.1',
        '--env',
        `HEALTH_PORT=${port}`,
        image,
      ]);
      const report = await vi.waitFor(
        async () => {
          const response = await fetch(`http://127.0.0.1:${port}/health`);
          return (await response.json()) as { service: string; version: string };
        },
        { timeout: READY_DEADLINE_MS, interval: 500 },
      );
      expect(report).toMatchObject({ service: app, version: packageVersion });
    },
    30 * 60_000,
  );
});

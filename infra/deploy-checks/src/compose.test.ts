import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  COMPOSE_STACKS,
  type ComposeProject,
  checkComposeBuilds,
  composeFiles,
  dockerComposeVersion,
} from './compose.ts';
import { existsInRepo } from './repo.ts';

// What needs no Docker CLI; compose.docker.test.ts parses the files with it (`pnpm test:docker`).
describe('compose', () => {
  it('without the Docker CLI or its Compose plugin, fails saying how to install them', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'no-compose-'));
    try {
      expect(() => dockerComposeVersion(dir)).toThrow(
        /docker CLI is not on PATH.*docker-compose-plugin/s,
      );
      // a docker CLI without the plugin answers like this
      const docker = path.join(dir, 'docker');
      writeFileSync(
        docker,
        '#!/bin/sh\necho "docker: unknown command: docker compose" >&2\nexit 1\n',
      );
      chmodSync(docker, 0o755);
      expect(() => dockerComposeVersion(dir)).toThrow(
        /`docker compose` is not available: docker: unknown command.*provision\.sh engine/s,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('checks every compose file in infra/ as part of a stack', () => {
    const covered = new Set(COMPOSE_STACKS.flatMap((s) => s.files));
    expect(composeFiles().filter((f) => !covered.has(f))).toEqual([]);
  });

  it.each(COMPOSE_STACKS)('$name: its files exist', (stack) => {
    expect(stack.files.filter((f) => !existsInRepo(f))).toEqual([]);
  });
});

describe('the compose build rule', () => {
  const project = (services: ComposeProject['services']): ComposeProject => ({
    name: 'copy',
    services,
  });
  const build = { context: '/repo', dockerfile: 'apps/api/Dockerfile' };

  it('fails an image that is both built and pulled, and one built twice', () => {
    expect(
      checkComposeBuilds(
        project({
          migrate: { image: 'jobstack-api:latest', build },
          api: { image: 'jobstack-api:latest', build, pull_policy: 'never' },
        }),
        'copy.yaml',
      ).map((p) => `${p.name}: ${p.message}`),
    ).toEqual([
      'migrate: builds jobstack-api:latest but has pull_policy missing (the default): Compose asks a registry for it first; use build or never',
      'migrate, api: each build jobstack-api:latest: build it in one service and let the others name the image',
    ]);
  });

  it('fails a service running a built image that may still be pulled', () => {
    expect(
      checkComposeBuilds(
        project({
          migrate: { image: 'jobstack-api:latest' },
          api: { image: 'jobstack-api:latest', build, pull_policy: 'build' },
        }),
        'copy.yaml',
      ).map((p) => p.name),
    ).toEqual(['migrate']);
  });
});

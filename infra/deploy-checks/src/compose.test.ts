import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkBuilds,
  checkRequiredVariables,
  checkSharedValuesAgree,
  checkShutdownWindow,
  imageAppOf,
  migrateCommandProblem,
  resolveImageCommand,
} from './checks.ts';
import {
  COMPOSE_STACKS,
  type ComposeProject,
  checkComposeBuilds,
  checkComposeRedis,
  composeConfig,
  composeFiles,
  composeTargets,
  dockerComposeVersion,
} from './compose.ts';
import { appNamed, existsInRepo } from './repo.ts';
import { assertNoProblems, type Problem } from './targets.ts';

describe('compose', () => {
  // Fails, never skips, without the plugin: the message says how to install it.
  it('has the Docker Compose v2 plugin to parse the files with', () => {
    expect(dockerComposeVersion()).toMatch(/^2\./);
  });

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

  describe.each(COMPOSE_STACKS)('$name ($files)', (stack) => {
    const label = stack.files.join(' + ');
    let project: ComposeProject | undefined;
    const load = () => {
      project ??= composeConfig(stack);
      return project;
    };
    const targets = () => composeTargets(load(), label);

    it('exists', () => {
      expect(stack.files.filter((f) => !existsInRepo(f))).toEqual([]);
    });

    it('parses and validates with `docker compose config`', () => {
      expect(Object.keys(load().services).length).toBeGreaterThan(0);
    });

    it('runs Redis with maxmemory-policy noeviction', () => {
      assertNoProblems(checkComposeRedis(load(), label));
    });

    it('builds each image once and never pulls the images it builds', () => {
      assertNoProblems(checkComposeBuilds(load(), label));
    });

    it('provides every variable each app requires (packages/config)', () => {
      assertNoProblems(checkRequiredVariables(targets()));
    });

    it('points every app at the same database, Redis and queue prefix', () => {
      assertNoProblems(checkSharedValuesAgree(targets()));
    });

    it('builds each app from the repository root with its own Dockerfile', () => {
      assertNoProblems(checkBuilds(targets()));
    });

    it('lets in-flight work finish within stop_grace_period', () => {
      assertNoProblems(checkShutdownWindow(targets()));
    });

    it("runs commands that exist in the image; migrate runs packages/db's migrate command", () => {
      const problems: Problem[] = [];
      for (const target of targets()) {
        const command = load().services[target.name]?.command;
        if (!command) continue;
        const app = appNamed(imageAppOf(target.service));
        if (!app) continue;
        const error =
          target.service === 'migrate'
            ? migrateCommandProblem(command, app)
            : (resolveImageCommand(command, app) as { error?: string }).error;
        if (error) {
          problems.push({
            file: label,
            name: target.name,
            message: `command "${command.join(' ')}": ${error}`,
          });
        }
      }
      assertNoProblems(problems);
    });
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

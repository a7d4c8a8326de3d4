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
  composeTargets,
  dockerComposeVersion,
} from './compose.ts';
import { appNamed } from './repo.ts';
import { assertNoProblems, type Problem } from './targets.ts';

// `pnpm test:docker`: every compose stack parsed by `docker compose config` (the Docker CLI with
// the Compose v2 plugin; no engine). compose.test.ts holds what needs no Docker.
describe('compose (docker compose config)', () => {
  // Fails, never skips, without the plugin: the message says how to install it.
  it('has the Docker Compose v2 plugin to parse the files with', () => {
    expect(dockerComposeVersion()).toMatch(/^2\./);
  });

  describe.each(COMPOSE_STACKS)('$name ($files)', (stack) => {
    const label = stack.files.join(' + ');
    let project: ComposeProject | undefined;
    const load = () => {
      project ??= composeConfig(stack);
      return project;
    };
    const targets = () => composeTargets(load(), label);

    it('parses and validates with `docker compose config`', () => {
      expect(Object.keys(load().services).length).toBeGreaterThan(0);
    });

    it('runs Redis with maxmemory-policy noeviction', () => {
      assertNoProblems(checkComposeRedis(load(), label));
    });

    it('builds each image once and never pulls the images it builds', () => {
      assertNoProblems(checkComposeBuilds(load(), label));
    });

    it("provides every variable each app requires (each app's src/env.ts)", () => {
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

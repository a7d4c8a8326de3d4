import { describe, it } from 'vitest';
import {
  checkBuildPaths,
  checkBuilds,
  checkNoUnknownVariables,
  checkPreDeploy,
  checkProductionMode,
  checkRequiredVariables,
  checkSecretsNotCommitted,
  checkSharedValuesAgree,
  checkShutdownWindow,
} from './checks.ts';
import { loadRailway, loadRender } from './load.ts';
import { assertNoProblems } from './targets.ts';

// The same cross-checks for both platforms, derived from the code: each app's src/env.ts for variables,
// the workspace for build inputs, the apps' Dockerfiles, packages/db's migrate command.
describe.each([
  ['Render (infra/render.yaml)', () => loadRender().targets],
  ['Railway (.railway/railway.ts)', () => loadRailway().targets],
])('%s', (_platform, load) => {
  const targets = load();

  it("provides every variable each service requires in production (each app's src/env.ts)", () => {
    assertNoProblems(checkRequiredVariables(targets));
  });

  it('runs every service with NODE_ENV=production', () => {
    assertNoProblems(checkProductionMode(targets));
  });

  it('points every service at the same database, Redis and queue prefix', () => {
    assertNoProblems(checkSharedValuesAgree(targets));
  });

  it('never writes a secret as a value', () => {
    assertNoProblems(checkSecretsNotCommitted(targets));
  });

  it('sets no variable the service does not read', () => {
    assertNoProblems(checkNoUnknownVariables(targets));
  });

  it("builds each service from the repository root with its own app's Dockerfile", () => {
    assertNoProblems(checkBuilds(targets));
  });

  it('rebuilds a service when anything it is built from changes, and only then', () => {
    assertNoProblems(checkBuildPaths(targets));
  });

  it('gives in-flight work SHUTDOWN_TIMEOUT before SIGKILL', () => {
    assertNoProblems(checkShutdownWindow(targets));
  });

  it("migrates before deploying every service that uses the schema, with packages/db's migrate command", () => {
    assertNoProblems(checkPreDeploy(targets));
  });
});

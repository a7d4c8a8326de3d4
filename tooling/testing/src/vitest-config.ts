import { fileURLToPath } from 'node:url';
import { defineConfig, mergeConfig, type ViteUserConfig } from 'vitest/config';
import {
  NOT_PRODUCT_SOURCES,
  productSources,
  TEST_COVERAGE_DIR,
  vitestCoverageDir,
} from './coverage-paths.ts';
import { HOOK_TIMEOUT_MS, TEST_TIMEOUT_MS } from './deadlines.ts';

/**
 * The kinds of test, by file name: what a test needs is in its name, and each kind is a Vitest
 * project, so `--project` picks kinds and configuration (not a convention) keeps them apart.
 *
 * - `unit` — `*.test.ts` with no kind: no service at all. Its TEST_DATABASE_URL and
 *   TEST_REDIS_URL point at a closed port, so a unit-named test that reaches for PostgreSQL or
 *   Redis through @repo/testing fails instead of passing on a machine that happens to run them.
 * - `postgres`, `redis`, `postgres-redis` — `*.<kind>.test.ts`: the real services.
 * - `chromium` — `*.chromium.test.ts`: a headless browser (and the services).
 * - `docker` — `*.docker.test.ts`: the Docker CLI or engine. Not part of `pnpm test`; run by
 *   `pnpm test:docker`.
 */
export const TEST_KINDS = [
  'unit',
  'postgres',
  'redis',
  'postgres-redis',
  'chromium',
  'docker',
] as const;
export type TestKind = (typeof TEST_KINDS)[number];

const NAMED_KINDS = TEST_KINDS.filter((kind) => kind !== 'unit');

/** Nothing listens on port 1 (tcpmux, reserved): connecting fails at once with ECONNREFUSED. */
export const CLOSED_PORT = 1;

/**
 * Kills the processes a test started when it ends (vitest-setup.ts): every kind has it; a config
 * of its own (the reliability suite's) adds it to `setupFiles`.
 */
export const PROCESS_CLEANUP_SETUP_FILE = fileURLToPath(
  new URL('./vitest-setup.ts', import.meta.url),
);

function project(kind: TestKind) {
  return {
    // package-level options (server.deps, logLevel, …) apply to every kind
    extends: true,
    test: {
      name: kind,
      include: kind === 'unit' ? ['src/**/*.test.ts'] : [`src/**/*.${kind}.test.ts`],
      ...(kind === 'unit'
        ? {
            exclude: NAMED_KINDS.map((named) => `src/**/*.${named}.test.ts`),
            env: {
              TEST_DATABASE_URL: `postgresql://postgres@127.0.0.1:${CLOSED_PORT}/postgres`,
              TEST_REDIS_URL: `redis://127.0.0.1:${CLOSED_PORT}`,
            },
          }
        : {}),
      setupFiles: [PROCESS_CLEANUP_SETUP_FILE],
    },
  };
}

/**
 * Coverage when a coverage run (tooling/coverage) sets TEST_COVERAGE_DIR: V8 coverage of every
 * product source file, loaded or not (`include` lists them all, so a file no test loads counts
 * as uncovered), written as Istanbul JSON for the run to merge with the other packages' and with
 * that of the processes the tests start (service-process.ts). The run checks the thresholds on
 * the merged figures, so no package's Vitest checks any.
 *
 * Not Vitest's `autoAttachSubprocess`: it converts a process's coverage against the source as
 * Node ran it and merges that with the in-process coverage by exact location, and the two
 * conversions end statements at different columns, so a file run both ways would count its
 * statements twice. The run matches them by where they start instead (tooling/coverage).
 */
function coverageOptions(): ViteUserConfig['test'] {
  const coverageDir = process.env[TEST_COVERAGE_DIR];
  if (!coverageDir) return {};
  return {
    coverage: {
      enabled: true,
      provider: 'v8',
      // product files of other packages (a worker test runs the db package) count too
      allowExternal: true,
      include: productSources(process.cwd()),
      exclude: NOT_PRODUCT_SOURCES,
      reporter: [['json', { file: 'coverage-final.json' }]],
      reportsDirectory: vitestCoverageDir(coverageDir, process.cwd()),
      // a failing suite still reports: the run fails on it, with the figures of what ran
      reportOnFailure: true,
    },
  };
}

/**
 * A package's vitest.config.ts: `export default testKindsConfig()`, or with the package's own
 * options merged in. Root-level options (coverage, reporters, …) belong in `overrides`; every
 * kind inherits them.
 */
export function testKindsConfig(overrides: ViteUserConfig = {}): ViteUserConfig {
  return mergeConfig(
    defineConfig({
      test: {
        testTimeout: TEST_TIMEOUT_MS,
        hookTimeout: HOOK_TIMEOUT_MS,
        teardownTimeout: HOOK_TIMEOUT_MS,
        projects: TEST_KINDS.map(project),
        ...coverageOptions(),
      },
    }),
    overrides,
  );
}

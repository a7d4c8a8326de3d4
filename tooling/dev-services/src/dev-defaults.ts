import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';

/**
 * Where each variable `pnpm dev` and `pnpm test` care about comes from. @repo/config merges the
 * same files (shell > .env > .env.development) for the apps; this reads them apart because what
 * to do depends on the source: a value someone chose is used as it is, a committed default may be
 * made private to the checkout or replaced by a service started here.
 */
export type Source = 'shell' | '.env' | '.env.development' | 'built-in default';

export interface Setting {
  name: string;
  value: string;
  source: Source;
}

const readEnvFile = (path: string): Record<string, string | undefined> =>
  existsSync(path) ? parseEnv(readFileSync(path, 'utf8')) : {};

export function settingOf(
  name: string,
  root: string,
  builtIn: string,
  env: NodeJS.ProcessEnv = process.env,
): Setting {
  const shell = env[name];
  if (shell !== undefined && shell !== '') return { name, value: shell, source: 'shell' };
  const own = readEnvFile(join(root, '.env'))[name];
  if (own !== undefined && own !== '') return { name, value: own, source: '.env' };
  const committed = readEnvFile(join(root, '.env.development'))[name];
  if (committed !== undefined && committed !== '') {
    return { name, value: committed, source: '.env.development' };
  }
  return { name, value: builtIn, source: 'built-in default' };
}

/** A value someone set for this machine or this checkout, rather than a committed default. */
export const chosen = (setting: Setting) => setting.source === 'shell' || setting.source === '.env';

/**
 * The committed development database made private to the checkout:
 * `…/jobstack_dev` → `…/jobstack_dev_<checkout id>`.
 */
export function checkoutDatabaseUrl(url: string, id: string): string {
  const parsed = new URL(url);
  const database = decodeURIComponent(parsed.pathname.slice(1)) || 'jobstack_dev';
  parsed.pathname = `/${`${database}_${id}`.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 63)}`;
  return parsed.toString();
}

/** The committed queue prefix made private to the checkout: `jobstack-dev-<checkout id>`. */
export const checkoutQueuePrefix = (prefix: string, id: string) => `${prefix}-${id}`;

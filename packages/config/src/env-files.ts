import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseEnv } from 'node:util';
import type { Env } from './load-config.ts';
import { runsAsProduction } from './runtime-env.ts';
import { SECRET_FILE_SUFFIX } from './secret-files.ts';

/** Later files override earlier ones: .env.development holds the committed local defaults, .env a developer's own. */
const ENV_FILES = ['.env.development', '.env'];

/**
 * Development and tests only (NODE_ENV explicitly development or test): returns `env` merged
 * with the workspace's .env files. Variables already set in `env` win, and so does a `<NAME>_FILE`
 * set in `env` over a file's `<NAME>` (and the other way round). Any other NODE_ENV, a missing one
 * included, never reads the files, so an image, a platform or a forgotten NODE_ENV only ever sees
 * the environment it was given.
 */
export function withEnvFiles(env: Env, cwd: string = process.cwd()): Env {
  if (runsAsProduction(env.NODE_ENV)) return env;
  const root = findWorkspaceRoot(cwd);
  const fromFiles: Record<string, string> = {};
  for (const file of ENV_FILES) {
    const path = join(root, file);
    if (existsSync(path)) Object.assign(fromFiles, parseEnv(readFileSync(path, 'utf8')));
  }
  const merged: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(fromFiles)) {
    if (!isSetIn(env, name) && !isSetIn(env, otherFormOf(name))) merged[name] = value;
  }
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined) merged[name] = value;
  }
  return merged;
}

/** `X` ↔ `X_FILE`: the two ways of giving one secret. */
function otherFormOf(name: string): string {
  return name.endsWith(SECRET_FILE_SUFFIX)
    ? name.slice(0, -SECRET_FILE_SUFFIX.length)
    : `${name}${SECRET_FILE_SUFFIX}`;
}

function isSetIn(env: Env, name: string): boolean {
  const value = env[name];
  return value !== undefined && value.trim() !== '';
}

function findWorkspaceRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    if (dirname(dir) === dir) return start;
  }
}

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseEnv } from 'node:util';
import type { Env } from './load-config.ts';

/** Later files override earlier ones: .env.development holds the committed local defaults, .env a developer's own. */
const ENV_FILES = ['.env.development', '.env'];

/**
 * Development and tests only: returns `env` merged with the workspace's .env files. Variables
 * already set in `env` win. With NODE_ENV=production the files are never read, so an image or a
 * platform only ever sees the environment it was given.
 */
export function withEnvFiles(env: Env, cwd: string = process.cwd()): Env {
  if (env.NODE_ENV === 'production') return env;
  const root = findWorkspaceRoot(cwd);
  const fromFiles: Record<string, string> = {};
  for (const file of ENV_FILES) {
    const path = join(root, file);
    if (existsSync(path)) Object.assign(fromFiles, parseEnv(readFileSync(path, 'utf8')));
  }
  const merged: Record<string, string | undefined> = { ...fromFiles };
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined) merged[name] = value;
  }
  return merged;
}

function findWorkspaceRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    if (dirname(dir) === dir) return start;
  }
}

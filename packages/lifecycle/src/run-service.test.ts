import { fileURLToPath } from 'node:url';
import { type ServiceProcess, startServiceProcess } from '@repo/testing';
import { describe, expect, it } from 'vitest';
import { WATCH_MODE_DUPLICATE_SIGNAL_MS } from './run-service.ts';

const fixture = fileURLToPath(new URL('./fixtures/service.ts', import.meta.url));
const SECRET = 'super-secret-redis-password';

function startFixture(env: Record<string, string>): ServiceProcess {
  return startServiceProcess(fixture, { NODE_ENV: 'production', ...env });
}

const waitForLog = (started: ServiceProcess, msg: string) =>
  started.waitForLog((line) => line.msg === msg);

const validEnv = { REDIS_URL: `redis://:${SECRET}@127.0.0.1:6379`, SHUTDOWN_TIMEOUT: '5s' };

describe('runService (real processes and signals)', () => {
  it('prints one clear multi-line error and exits 1 when the environment is broken', async () => {
    const started = startFixture({
      REDIS_URL: `http://:${SECRET}@x`,
      HEALTH_PORT: 'abc',
      SHUTDOWN_TIMEOUT: '5',
    });
    expect(await started.exited).toBe(1);
    const stderr = started.stderr();
    expect(stderr).toBe(
      [
        'Invalid environment for fixture (3 problems):',
        '  - REDIS_URL: expected a URL starting with redis:// or rediss://',
        '  - SHUTDOWN_TIMEOUT: expected a duration such as 500ms, 30s, 5m, 2h or 7d',
        '  - HEALTH_PORT: expected a whole number between 1 and 65535',
        '',
      ].join('\n'),
    );
    expect(stderr).not.toContain(SECRET);
    expect(started.logs()).toEqual([]);
  });

  it('logs ready, then drains on SIGTERM and exits 0', async () => {
    const started = startFixture({ ...validEnv, FIXTURE_STOP_MS: '200' });
    await waitForLog(started, 'ready');
    started.child.kill('SIGTERM');
    expect(await started.exited).toBe(0);
    const messages = started.logs().map((line) => line.msg);
    expect(messages).toEqual(['ready', 'shutting down', 'fixture stopping', 'stopped']);
    expect(started.logs()[0]).toMatchObject({
      service: 'fixture',
      version: '0.0.0',
      level: 'info',
    });
    expect(JSON.stringify(started.logs())).not.toContain(SECRET);
  });

  it('exits 1 when stopping outlasts SHUTDOWN_TIMEOUT', async () => {
    const started = startFixture({ ...validEnv, SHUTDOWN_TIMEOUT: '1s', FIXTURE_STOP_MS: '60000' });
    await waitForLog(started, 'ready');
    started.child.kill('SIGTERM');
    expect(await started.exited).toBe(1);
    expect(started.logs().at(-1)?.msg).toBe(
      'shutdown ran past SHUTDOWN_TIMEOUT; work still in flight was abandoned',
    );
  });

  it('exits at once on a second signal', async () => {
    const started = startFixture({
      ...validEnv,
      SHUTDOWN_TIMEOUT: '60s',
      FIXTURE_STOP_MS: '60000',
    });
    await waitForLog(started, 'ready');
    started.child.kill('SIGTERM');
    await waitForLog(started, 'fixture stopping');
    started.child.kill('SIGINT');
    expect(await started.exited).toBe(1);
    expect(started.logs().at(-1)?.msg).toBe('second signal: exiting without waiting');
  });

  it('outside node --watch, the same signal twice also exits at once', async () => {
    const started = startFixture({
      ...validEnv,
      SHUTDOWN_TIMEOUT: '60s',
      FIXTURE_STOP_MS: '60000',
    });
    await waitForLog(started, 'ready');
    started.child.kill('SIGINT');
    await waitForLog(started, 'fixture stopping');
    started.child.kill('SIGINT');
    expect(await started.exited).toBe(1);
    expect(started.logs().at(-1)?.msg).toBe('second signal: exiting without waiting');
  });

  describe('under node --watch in its own process group, as `pnpm dev` runs it under turbo', () => {
    // turbo (or a terminal's Ctrl-C) signals the task's whole process group: the watcher and the
    // app both get it, and the watcher passes it on to the app again
    const startWatched = () =>
      startServiceProcess(
        fixture,
        { ...validEnv, NODE_ENV: 'development', SHUTDOWN_TIMEOUT: '60s', FIXTURE_STOP_MS: '1500' },
        { nodeArgs: ['--watch', '--conditions=development'], processGroup: true },
      );
    const signalGroup = (started: ServiceProcess, signal: NodeJS.Signals) =>
      process.kill(-(started.child.pid ?? 0), signal);

    it('one Ctrl-C is one graceful stop', async () => {
      const started = startWatched();
      await waitForLog(started, 'ready');
      signalGroup(started, 'SIGINT');
      expect(await started.exited).toBe(0);
      expect(started.logs().map((line) => line.msg)).toEqual([
        'ready',
        'shutting down',
        'fixture stopping',
        'stopped',
      ]);
    });

    it('a second Ctrl-C while stopping exits at once', async () => {
      const started = startWatched();
      await waitForLog(started, 'ready');
      signalGroup(started, 'SIGINT');
      await waitForLog(started, 'fixture stopping');
      // a person's second Ctrl-C comes later than the watcher's copy of the first
      await new Promise((resolve) => setTimeout(resolve, WATCH_MODE_DUPLICATE_SIGNAL_MS + 100));
      signalGroup(started, 'SIGINT');
      await waitForLog(started, 'second signal: exiting without waiting');
      expect(started.logs().some((line) => line.msg === 'stopped')).toBe(false);
    });
  });

  it('exits 1 and says why when start-up fails', async () => {
    const started = startFixture({ ...validEnv, FIXTURE_START_FAILS: '1' });
    expect(await started.exited).toBe(1);
    expect(started.logs().at(-1)).toMatchObject({
      level: 'fatal',
      msg: 'start-up failed',
      err: { message: 'cannot reach the thing' },
    });
  });
});

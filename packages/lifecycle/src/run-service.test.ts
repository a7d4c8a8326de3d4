import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ServiceProcess, startServiceProcess } from '@repo/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { WATCH_MODE_DUPLICATE_SIGNAL_MS } from './run-service.ts';

const fixture = fileURLToPath(new URL('./fixtures/service.ts', import.meta.url));
const SECRET = 'redis-pass-3e9d7c1a5b';
// a directory outside any workspace: no .env file can be found from it
const outside = mkdtempSync(join(tmpdir(), 'run-service-'));
afterAll(() => rmSync(outside, { recursive: true, force: true }));

/** `env` over NODE_ENV=production and JSON logs; a variable given as undefined is left out. */
function startFixture(env: Record<string, string | undefined>, cwd = outside): ServiceProcess {
  return startServiceProcess(fixture, { NODE_ENV: 'production', ...env }, { cwd });
}

const waitForLog = (started: ServiceProcess, msg: string) =>
  started.waitForLog((line) => line.msg === msg);

const validEnv = { REDIS_URL: `redis://:${SECRET}@127.0.0.1:6379`, SHUTDOWN_TIMEOUT: '5s' };

describe('runService (real processes and signals)', () => {
  const broken = { REDIS_URL: `http://:${SECRET}@x`, HEALTH_PORT: 'abc', SHUTDOWN_TIMEOUT: '5' };
  const brokenProblems = [
    { variable: 'REDIS_URL', message: 'expected a URL starting with redis:// or rediss://' },
    {
      variable: 'SHUTDOWN_TIMEOUT',
      message: 'expected a duration such as 500ms, 30s, 5m, 2h or 7d',
    },
    { variable: 'HEALTH_PORT', message: 'expected a whole number between 1 and 65535' },
  ];

  it('in production, writes the broken environment as one JSON line on stderr and exits 1', async () => {
    const started = startFixture({ ...broken, LOG_FORMAT: undefined });
    expect(await started.exited).toBe(1);
    const stderr = started.stderr();
    expect(stderr).not.toContain(SECRET);
    expect(stderr.endsWith('\n')).toBe(true);
    const lines = stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      level: 'fatal',
      service: 'fixture',
      version: '0.0.0',
      msg: `Invalid environment for fixture (3 problems): ${brokenProblems
        .map((p) => `${p.variable}: ${p.message}`)
        .join('; ')}`,
      problems: brokenProblems,
    });
    expect(started.logs()).toEqual([]);
  });

  it('in development, prints one clear multi-line error and exits 1', async () => {
    const started = startFixture({ ...broken, NODE_ENV: 'development', LOG_FORMAT: undefined });
    expect(await started.exited).toBe(1);
    expect(started.stderr()).toBe(
      [
        'Invalid environment for fixture (3 problems):',
        ...brokenProblems.map((p) => `  - ${p.variable}: ${p.message}`),
        '',
      ].join('\n'),
    );
    expect(started.logs()).toEqual([]);
  });

  it('without NODE_ENV, runs as production: reads no .env file and says why in its JSON error', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'run-service-workspace-'));
    try {
      writeFileSync(join(workspace, 'pnpm-workspace.yaml'), 'packages: []\n');
      writeFileSync(join(workspace, '.env.development'), `REDIS_URL=redis://127.0.0.1:6379\n`);
      const unset = startFixture({ NODE_ENV: undefined, LOG_FORMAT: undefined }, workspace);
      expect(await unset.exited).toBe(1);
      expect(JSON.parse(unset.stderr())).toMatchObject({
        level: 'fatal',
        problems: [{ variable: 'REDIS_URL', message: expect.stringMatching(/^is required/) }],
        msg: expect.stringContaining('NODE_ENV is not set, which means production'),
      });

      // the same directory with NODE_ENV=development: the file is read and the service starts
      const development = startFixture(
        { ...validEnv, REDIS_URL: undefined, NODE_ENV: 'development' },
        workspace,
      );
      await waitForLog(development, 'ready');
      development.child.kill('SIGTERM');
      expect(await development.exited).toBe(0);
    } finally {
      rmSync(workspace, { recursive: true, force: true });
    }
  });

  it('reads a secret from <NAME>_FILE, and names the variable and path when it cannot', async () => {
    const path = join(outside, 'redis_url');
    writeFileSync(path, `${validEnv.REDIS_URL}\n`);
    const started = startFixture({ ...validEnv, REDIS_URL: undefined, REDIS_URL_FILE: path });
    await waitForLog(started, 'ready');
    started.child.kill('SIGTERM');
    expect(await started.exited).toBe(0);

    const missing = join(outside, 'missing');
    const failed = startFixture({ ...validEnv, REDIS_URL: undefined, REDIS_URL_FILE: missing });
    expect(await failed.exited).toBe(1);
    expect(JSON.parse(failed.stderr()).problems).toEqual([
      { variable: 'REDIS_URL_FILE', message: `cannot read ${missing}: no such file` },
    ]);
  });

  it('with JSON logs, sends what libraries write to the console and Node warnings through the logger', async () => {
    const started = startFixture({
      ...validEnv,
      LOG_FORMAT: undefined,
      FIXTURE_WRITES_TO_CONSOLE: '1',
    });
    await waitForLog(started, 'something is deprecated');
    started.child.kill('SIGTERM');
    expect(await started.exited).toBe(0);
    expect(started.stderr()).toBe('');
    expect(started.logs()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ level: 'warn', msg: 'a library warns\nover two lines' }),
        expect.objectContaining({
          level: 'error',
          msg: 'a library error',
          err: expect.objectContaining({ message: 'a library error' }),
        }),
        expect.objectContaining({
          level: 'warn',
          msg: 'something is deprecated',
          err: expect.objectContaining({ name: 'DeprecationWarning' }),
        }),
      ]),
    );
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

  it('turns readiness ready after start and stopping on the signal, before draining', async () => {
    const started = startFixture({ ...validEnv, FIXTURE_READINESS: '1', FIXTURE_DRAIN_MS: '0' });
    await waitForLog(started, 'ready');
    started.child.kill('SIGTERM');
    expect(await started.exited).toBe(0);
    const logs = started.logs();
    expect(
      logs.filter((line) => line.msg === 'fixture readiness changed').map((line) => line.readiness),
    ).toEqual(['ready', 'stopping']);
    expect(logs.find((line) => line.msg === 'fixture draining')?.readiness).toBe('stopping');
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

  it('drains before stopping, and starts SHUTDOWN_TIMEOUT only after the drain', async () => {
    // drain 1.5 s + stop 0.8 s: past SHUTDOWN_TIMEOUT (1 s) if it counted the drain, within it if not
    const started = startFixture({
      ...validEnv,
      SHUTDOWN_TIMEOUT: '1s',
      FIXTURE_DRAIN_MS: '1500',
      FIXTURE_STOP_MS: '800',
    });
    await waitForLog(started, 'ready');
    const signalled = performance.now();
    started.child.kill('SIGTERM');
    expect(await started.exited).toBe(0);
    expect(performance.now() - signalled).toBeGreaterThan(2_200);
    expect(started.logs().map((line) => line.msg)).toEqual([
      'ready',
      'shutting down',
      'fixture draining',
      'fixture stopping',
      'stopped',
    ]);
  });

  it('exits at once on a second signal while draining', async () => {
    const started = startFixture({ ...validEnv, FIXTURE_DRAIN_MS: '60000' });
    await waitForLog(started, 'ready');
    started.child.kill('SIGTERM');
    await waitForLog(started, 'fixture draining');
    started.child.kill('SIGTERM');
    expect(await started.exited).toBe(1);
    expect(started.logs().at(-1)?.msg).toBe('second signal: exiting without waiting');
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

  it('exits 0 without stopping anything on a signal during start-up', async () => {
    const started = startFixture({ ...validEnv, FIXTURE_START_MS: '60000' });
    await waitForLog(started, 'fixture starting');
    started.child.kill('SIGTERM');
    expect(await started.exited).toBe(0);
    expect(started.logs().map((line) => line.msg)).toEqual([
      'fixture starting',
      'signal during start-up: exiting',
    ]);
  });

  it('still stops, and exits 0, when draining fails', async () => {
    const started = startFixture({ ...validEnv, FIXTURE_DRAIN_MS: '0', FIXTURE_DRAIN_FAILS: '1' });
    await waitForLog(started, 'ready');
    started.child.kill('SIGTERM');
    expect(await started.exited).toBe(0);
    expect(started.logs().map((line) => line.msg)).toEqual(
      expect.arrayContaining(['fixture draining', 'fixture stopping', 'stopped']),
    );
    expect(started.logs()).toContainEqual(
      expect.objectContaining({
        level: 'error',
        msg: 'draining failed; stopping now',
        err: expect.objectContaining({ message: 'cannot drain' }),
      }),
    );
  });

  it('exits 1 and says why when stopping fails', async () => {
    const started = startFixture({ ...validEnv, FIXTURE_STOP_FAILS: '1' });
    await waitForLog(started, 'ready');
    started.child.kill('SIGTERM');
    expect(await started.exited).toBe(1);
    // what was logged, not in which order: pino's lines from a process that is exiting can
    // reach the pipe out of order
    expect(started.logs()).toContainEqual(
      expect.objectContaining({
        level: 'error',
        msg: 'shutdown failed',
        err: expect.objectContaining({ message: 'cannot close the thing' }),
      }),
    );
  });

  it.each([
    ['an uncaught exception', 'FIXTURE_THROWS_LATER', 'uncaught exception', 'a bug nobody caught'],
    [
      'an unhandled rejection',
      'FIXTURE_REJECTS_LATER',
      'unhandled promise rejection',
      'a promise nobody awaited',
    ],
  ])('logs %s as fatal and exits 1', async (_what, variable, msg, message) => {
    const started = startFixture({ ...validEnv, [variable]: '1' });
    expect(await started.exited).toBe(1);
    expect(started.logs()).toContainEqual(
      expect.objectContaining({ level: 'fatal', msg, err: expect.objectContaining({ message }) }),
    );
  });

  it('exits 1 and says why when start-up fails', async () => {
    const started = startFixture({ ...validEnv, FIXTURE_START_FAILS: '1' });
    expect(await started.exited).toBe(1);
    expect(started.logs()).toContainEqual(
      expect.objectContaining({
        level: 'fatal',
        msg: 'start-up failed',
        err: expect.objectContaining({ message: 'cannot reach the thing' }),
      }),
    );
  });
});

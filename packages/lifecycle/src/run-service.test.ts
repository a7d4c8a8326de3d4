import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./fixtures/service.ts', import.meta.url));
const SECRET = 'redis-pass-3e9d7c1a5b';
// a directory outside any workspace: no .env file can be found from it
const outside = mkdtempSync(join(tmpdir(), 'run-service-'));
afterAll(() => rmSync(outside, { recursive: true, force: true }));

interface Started {
  child: ChildProcess;
  lines: () => Record<string, unknown>[];
  stderr: () => string;
  exit: Promise<number | null>;
}

/** `env` over NODE_ENV=production and JSON logs; a variable given as undefined is left out. */
function startFixture(env: Record<string, string | undefined>, cwd = outside): Started {
  const child = spawn(process.execPath, ['--conditions=development', fixture], {
    cwd,
    env: { PATH: process.env.PATH, NODE_ENV: 'production', LOG_FORMAT: 'json', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  return {
    child,
    lines: () =>
      stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line)),
    stderr: () => stderr,
    // 'close', not 'exit': the output may still be arriving when the process has exited
    exit: once(child, 'close').then(([code]) => code as number | null),
  };
}

// Deadlines sized for a busy two-core machine, where starting a process can take seconds.
const WAIT_MS = 45_000;

async function waitForLog(started: Started, msg: string) {
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    if (started.lines().some((line) => line.msg === msg)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no "${msg}" log line; stderr: ${started.stderr()}`);
}

const validEnv = { REDIS_URL: `redis://:${SECRET}@127.0.0.1:6379`, SHUTDOWN_TIMEOUT: '5s' };

describe('runService (real processes and signals)', { timeout: 2 * WAIT_MS }, () => {
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
    expect(await started.exit).toBe(1);
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
    expect(started.lines()).toEqual([]);
  });

  it('in development, prints one clear multi-line error and exits 1', async () => {
    const started = startFixture({ ...broken, NODE_ENV: 'development', LOG_FORMAT: undefined });
    expect(await started.exit).toBe(1);
    expect(started.stderr()).toBe(
      [
        'Invalid environment for fixture (3 problems):',
        ...brokenProblems.map((p) => `  - ${p.variable}: ${p.message}`),
        '',
      ].join('\n'),
    );
    expect(started.lines()).toEqual([]);
  });

  it('without NODE_ENV, runs as production: reads no .env file and says why in its JSON error', async () => {
    const workspace = mkdtempSync(join(tmpdir(), 'run-service-workspace-'));
    try {
      writeFileSync(join(workspace, 'pnpm-workspace.yaml'), 'packages: []\n');
      writeFileSync(join(workspace, '.env.development'), `REDIS_URL=redis://127.0.0.1:6379\n`);
      const unset = startFixture({ NODE_ENV: undefined, LOG_FORMAT: undefined }, workspace);
      expect(await unset.exit).toBe(1);
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
      expect(await development.exit).toBe(0);
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
    expect(await started.exit).toBe(0);

    const missing = join(outside, 'missing');
    const failed = startFixture({ ...validEnv, REDIS_URL: undefined, REDIS_URL_FILE: missing });
    expect(await failed.exit).toBe(1);
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
    expect(await started.exit).toBe(0);
    expect(started.stderr()).toBe('');
    expect(started.lines()).toEqual(
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
    expect(await started.exit).toBe(0);
    const messages = started.lines().map((line) => line.msg);
    expect(messages).toEqual(['ready', 'shutting down', 'fixture stopping', 'stopped']);
    expect(started.lines()[0]).toMatchObject({
      service: 'fixture',
      version: '0.0.0',
      level: 'info',
    });
    expect(JSON.stringify(started.lines())).not.toContain(SECRET);
  });

  it('exits 1 when stopping outlasts SHUTDOWN_TIMEOUT', async () => {
    const started = startFixture({ ...validEnv, SHUTDOWN_TIMEOUT: '1s', FIXTURE_STOP_MS: '60000' });
    await waitForLog(started, 'ready');
    started.child.kill('SIGTERM');
    expect(await started.exit).toBe(1);
    expect(started.lines().at(-1)?.msg).toBe(
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
    expect(await started.exit).toBe(0);
    expect(performance.now() - signalled).toBeGreaterThan(2_200);
    expect(started.lines().map((line) => line.msg)).toEqual([
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
    expect(await started.exit).toBe(1);
    expect(started.lines().at(-1)?.msg).toBe('second signal: exiting without waiting');
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
    expect(await started.exit).toBe(1);
    expect(started.lines().at(-1)?.msg).toBe('second signal: exiting without waiting');
  });

  it('exits 1 and says why when start-up fails', async () => {
    const started = startFixture({ ...validEnv, FIXTURE_START_FAILS: '1' });
    expect(await started.exit).toBe(1);
    expect(started.lines().at(-1)).toMatchObject({
      level: 'fatal',
      msg: 'start-up failed',
      err: { message: 'cannot reach the thing' },
    });
  });
});

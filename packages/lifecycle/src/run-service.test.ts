import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./fixtures/service.ts', import.meta.url));
const SECRET = 'redis-pass-3e9d7c1a5b';

interface Started {
  child: ChildProcess;
  lines: () => Record<string, unknown>[];
  stderr: () => string;
  exit: Promise<number | null>;
}

function startFixture(env: Record<string, string>): Started {
  const child = spawn(process.execPath, ['--conditions=development', fixture], {
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
    exit: once(child, 'exit').then(([code]) => code as number | null),
  };
}

async function waitForLog(started: Started, msg: string) {
  for (let i = 0; i < 200; i++) {
    if (started.lines().some((line) => line.msg === msg)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no "${msg}" log line; stderr: ${started.stderr()}`);
}

const validEnv = { REDIS_URL: `redis://:${SECRET}@127.0.0.1:6379`, SHUTDOWN_TIMEOUT: '5s' };

describe('runService (real processes and signals)', () => {
  it('prints one clear multi-line error and exits 1 when the environment is broken', async () => {
    const started = startFixture({
      REDIS_URL: `http://:${SECRET}@x`,
      HEALTH_PORT: 'abc',
      SHUTDOWN_TIMEOUT: '5',
    });
    expect(await started.exit).toBe(1);
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
    expect(started.lines()).toEqual([]);
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

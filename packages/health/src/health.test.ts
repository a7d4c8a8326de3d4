import { describe, expect, it } from 'vitest';
import { createHealth, type HealthCheck, statusCodeOf } from './health.ts';

const ok = (name: string): HealthCheck => ({ name, run: async () => undefined });
const failing = (name: string, error: Error, critical?: boolean): HealthCheck => ({
  name,
  run: async () => {
    throw error;
  },
  ...(critical === undefined ? {} : { critical }),
});

describe('createHealth', () => {
  it('reports the shared shape with every check', async () => {
    const health = createHealth({
      service: 'api',
      version: '1.0.0',
      checks: [ok('database'), ok('redis')],
      timeoutMs: 100,
    });
    const report = await health.check();
    expect(report).toEqual({
      status: 'ok',
      service: 'api',
      version: '1.0.0',
      uptime_seconds: expect.any(Number),
      checks: {
        database: { status: 'ok', latency_ms: expect.any(Number) },
        redis: { status: 'ok', latency_ms: expect.any(Number) },
      },
    });
    expect(statusCodeOf(report)).toBe(200);
  });

  it('runs checks in parallel', async () => {
    let running = 0;
    let peak = 0;
    const slow = (name: string): HealthCheck => ({
      name,
      run: async () => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 20));
        running -= 1;
      },
    });
    const health = createHealth({
      service: 's',
      version: 'v',
      checks: [slow('a'), slow('b'), slow('c')],
      timeoutMs: 1_000,
    });
    await health.check();
    expect(peak).toBe(3);
  });

  it('marks a check that exceeds its timeout as down and aborts it', async () => {
    let aborted: unknown;
    const hanging: HealthCheck = {
      name: 'database',
      run: (signal) =>
        new Promise((_, reject) => {
          signal.addEventListener('abort', () => {
            aborted = signal.reason;
            reject(signal.reason);
          });
        }),
    };
    const failures: string[] = [];
    const health = createHealth({
      service: 'api',
      version: '1',
      checks: [hanging, ok('redis')],
      timeoutMs: 30,
      logger: {
        warn: (details) => failures.push((details as { check: string }).check),
        error: () => undefined,
      },
    });
    const report = await health.check();
    expect(report.status).toBe('down');
    expect(report.checks.database).toMatchObject({ status: 'down', error: 'timeout' });
    expect(report.checks.redis?.status).toBe('ok');
    expect(aborted).toBeInstanceOf(Error);
    expect(failures).toEqual(['database']);
    expect(statusCodeOf(report)).toBe(503);
  });

  it('reports an error code, not the message, and tolerates non-critical failures', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:5432'), {
      code: 'ECONNREFUSED',
    });
    const health = createHealth({
      service: 'worker',
      version: '1',
      checks: [failing('database', refused), failing('cache', new TypeError('boom'), false)],
      timeoutMs: 100,
    });
    const report = await health.check();
    expect(report.checks.database).toMatchObject({ status: 'down', error: 'ECONNREFUSED' });
    expect(report.checks.cache).toMatchObject({ status: 'down', error: 'TypeError' });
    expect(report.status).toBe('down');
    expect(JSON.stringify(report)).not.toContain('10.1.2.3');

    const tolerant = createHealth({
      service: 'w',
      version: '1',
      checks: [ok('database'), failing('cache', new Error('x'), false)],
      timeoutMs: 100,
    });
    expect((await tolerant.check()).status).toBe('ok');
  });

  it('is ready only between start-up and shutdown', async () => {
    const health = createHealth({
      service: 'beat',
      version: '1',
      checks: [ok('redis')],
      timeoutMs: 100,
    });
    expect(await health.ready()).toMatchObject({ status: 'down', lifecycle: 'starting' });
    health.setLifecycle('ready');
    expect(await health.ready()).toMatchObject({ status: 'ok', lifecycle: 'ready' });
    health.setLifecycle('stopping');
    expect(await health.ready()).toMatchObject({ status: 'down', lifecycle: 'stopping' });
    expect(health.live().status).toBe('ok');
  });

  it('runs the checks once for probes that arrive while they run, and answers from that run for cacheMs', async () => {
    let runs = 0;
    let finish: () => void = () => undefined;
    const counted: HealthCheck = {
      name: 'database',
      run: () => {
        runs += 1;
        return new Promise<void>((resolve) => {
          finish = resolve;
        });
      },
    };
    const health = createHealth({
      service: 'api',
      version: '1',
      checks: [counted],
      timeoutMs: 10_000,
      cacheMs: 200,
    });
    health.setLifecycle('ready');
    // a flood of probes while the first check runs: one run, every probe gets its result
    const probes = [
      ...Array.from({ length: 50 }, () => health.check()),
      ...Array.from({ length: 50 }, () => health.ready()),
    ];
    expect(runs).toBe(1);
    finish();
    const reports = await Promise.all(probes);
    expect(reports.every((report) => report.status === 'ok')).toBe(true);

    // within cacheMs the result is reused; lifecycle is never cached
    await health.check();
    health.setLifecycle('stopping');
    expect(await health.ready()).toMatchObject({ status: 'down', lifecycle: 'stopping' });
    expect(runs).toBe(1);

    // after it, the next probe runs the checks again
    await new Promise((resolve) => setTimeout(resolve, 250));
    const again = health.check();
    expect(runs).toBe(2);
    finish();
    await again;
  });

  it('caches a failed run like a good one, and recovers once it expires', async () => {
    let up = false;
    let runs = 0;
    const health = createHealth({
      service: 'api',
      version: '1',
      checks: [
        {
          name: 'redis',
          run: async () => {
            runs += 1;
            if (!up) throw Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
          },
        },
      ],
      timeoutMs: 1_000,
      cacheMs: 100,
    });
    expect((await health.check()).status).toBe('down');
    up = true;
    expect((await health.check()).status).toBe('down');
    expect(runs).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect((await health.check()).status).toBe('ok');
    expect(runs).toBe(2);
  });

  it('caches for about a second by default', async () => {
    let runs = 0;
    const health = createHealth({
      service: 'api',
      version: '1',
      checks: [
        {
          name: 'database',
          run: async () => {
            runs += 1;
          },
        },
      ],
      timeoutMs: 1_000,
    });
    for (let i = 0; i < 20; i += 1) await health.check();
    expect(runs).toBe(1);
  });
});

import pTimeout from 'p-timeout';

export interface HealthCheck {
  name: string;
  /** Resolves when the dependency answers; `signal` aborts when the check's time is up. */
  run(signal: AbortSignal): Promise<unknown>;
  /** A non-critical check is reported but does not make the service unready. Default: critical. */
  critical?: boolean;
}

export interface CheckResult {
  status: 'ok' | 'down';
  latency_ms: number;
  /** A short reason ("timeout", an error code); details go to the log, not to this unauthenticated endpoint. */
  error?: string;
}

export interface HealthReport {
  status: 'ok' | 'down';
  service: string;
  version: string;
  uptime_seconds: number;
  checks: Record<string, CheckResult>;
}

export type Lifecycle = 'starting' | 'ready' | 'stopping';

/** pino's Logger satisfies this; the health package logs what it handles and nothing else. */
export interface HealthLogger {
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface HealthOptions {
  service: string;
  version: string;
  checks: readonly HealthCheck[];
  timeoutMs: number;
  /**
   * How long one run of the checks answers every probe; default HEALTH_CHECK_CACHE_MS. The
   * probes are unauthenticated, so without it a flood of them would run a query on the database
   * pool (and a Redis PING) per request and take connections from the real work.
   */
  cacheMs?: number;
  /** Each failed check is logged here with its full error; the report carries only a short reason. */
  logger?: HealthLogger;
}

/** About a second: fresh enough for probes that come every few seconds. */
export const HEALTH_CHECK_CACHE_MS = 1_000;

export interface Health {
  /** The process answers: no dependency is consulted. */
  live(): HealthReport;
  /**
   * Every check, run in parallel, each bounded by the timeout. One run at a time: a call while
   * the checks run shares that run, and a call within `cacheMs` after it gets its results.
   */
  check(): Promise<HealthReport>;
  /** check(), and down unless the app has started and is not shutting down. */
  ready(): Promise<HealthReport & { lifecycle: Lifecycle }>;
  setLifecycle(state: Lifecycle): void;
  readonly lifecycle: Lifecycle;
}

export class HealthCheckTimeoutError extends Error {
  override readonly name = 'HealthCheckTimeoutError';
}

export function createHealth(options: HealthOptions): Health {
  const started = performance.now();
  let lifecycle: Lifecycle = 'starting';

  const report = (checks: Record<string, CheckResult>, ok: boolean): HealthReport => ({
    status: ok ? 'ok' : 'down',
    service: options.service,
    version: options.version,
    uptime_seconds: Math.round((performance.now() - started) / 1000),
    checks,
  });

  const cacheMs = options.cacheMs ?? HEALTH_CHECK_CACHE_MS;
  interface Run {
    results: Promise<{ checks: Record<string, CheckResult>; ok: boolean }>;
    /** When the run finished (performance.now()); undefined while it runs. */
    finishedAt?: number;
  }
  let last: Run | undefined;

  async function runAll(): Promise<{ checks: Record<string, CheckResult>; ok: boolean }> {
    const results = await Promise.all(
      options.checks.map(async (c) => [c, await runCheck(c, options)] as const),
    );
    return {
      checks: Object.fromEntries(results.map(([c, r]) => [c.name, r])),
      ok: results.every(([c, r]) => r.status === 'ok' || c.critical === false),
    };
  }

  async function check(): Promise<HealthReport> {
    const fresh =
      last !== undefined &&
      (last.finishedAt === undefined || performance.now() - last.finishedAt < cacheMs);
    if (!fresh) {
      const run: Run = { results: runAll() };
      // runCheck never rejects (a failure is a "down" result), so this settles exactly once
      void run.results.then(() => {
        run.finishedAt = performance.now();
      });
      last = run;
    }
    const { checks, ok } = await (last as Run).results;
    return report(checks, ok);
  }

  return {
    live: () => report({}, true),
    check,
    async ready() {
      const current = await check();
      const ok = current.status === 'ok' && lifecycle === 'ready';
      return { ...current, status: ok ? 'ok' : 'down', lifecycle };
    },
    setLifecycle(state) {
      lifecycle = state;
    },
    get lifecycle() {
      return lifecycle;
    },
  };
}

async function runCheck(check: HealthCheck, options: HealthOptions): Promise<CheckResult> {
  const controller = new AbortController();
  const started = performance.now();
  try {
    await pTimeout(check.run(controller.signal), {
      milliseconds: options.timeoutMs,
      message: new HealthCheckTimeoutError(
        `${check.name} did not answer within ${options.timeoutMs} ms`,
      ),
    });
    return { status: 'ok', latency_ms: elapsed(started) };
  } catch (error) {
    if (error instanceof HealthCheckTimeoutError) controller.abort(error);
    options.logger?.warn({ err: error, check: check.name }, 'health check failed');
    return { status: 'down', latency_ms: elapsed(started), error: shortReason(error) };
  }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

function shortReason(error: unknown): string {
  if (error instanceof HealthCheckTimeoutError) return 'timeout';
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[A-Z0-9_]{2,40}$/.test(code)) return code;
  return error instanceof Error ? error.name : 'error';
}

/** 200 for a healthy report, 503 otherwise: what load balancers and orchestrators act on. */
export function statusCodeOf(report: HealthReport): 200 | 503 {
  return report.status === 'ok' ? 200 : 503;
}

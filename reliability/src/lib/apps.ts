import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { freePort, type ServiceProcess, startServiceProcess } from '@repo/testing';

export type App = 'api' | 'worker' | 'beat';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const entries: Record<App | 'migrate', string> = {
  api: `${repoRoot}apps/api/src/main.ts`,
  worker: `${repoRoot}apps/worker/src/main.ts`,
  beat: `${repoRoot}apps/beat/src/main.ts`,
  migrate: `${repoRoot}packages/db/src/bin/db-migrate.ts`,
};

export const API_KEY = 'reliability-api-key-0123456789';
export const SIGNING_SECRET = 'whsec_xSPw8kjkOstSDnDiE6T3VTCQws8tl5evdj+QqJ74VzE=';

export interface RunningApp {
  process: ServiceProcess;
  /** The api's URL, or the worker's or beat's health server. */
  url: string;
  /** Everything the process wrote to stdout so far, as written (`process.logs()` keeps only JSON lines). */
  stdout(): string;
  /** Resolves with the exit code once the process has exited and its output has all been read. */
  closed: Promise<number | null>;
}

/**
 * Starts an app from its TypeScript sources (as `pnpm dev` and the other process tests do) on
 * loopback, with the variables it needs plus `env`, and waits until /health/ready answers 200.
 */
export async function startApp(
  app: App,
  env: { DATABASE_URL: string; REDIS_URL: string; QUEUE_PREFIX: string } & Record<string, string>,
  options: { waitReady?: boolean } = {},
): Promise<RunningApp> {
  const port = await freePort();
  const own: Record<App, Record<string, string>> = {
    api: { API_KEYS: API_KEY, HOST: '127.0.0.1', PORT: String(port) },
    worker: {
      WEBHOOK_SIGNING_SECRET: SIGNING_SECRET,
      HEALTH_HOST: '127.0.0.1',
      HEALTH_PORT: String(port),
    },
    beat: { HEALTH_HOST: '127.0.0.1', HEALTH_PORT: String(port) },
  };
  const child = startServiceProcess(entries[app], { ...own[app], ...env });
  const output = recordOutput(child);
  const url = `http://127.0.0.1:${port}`;
  if (options.waitReady !== false) await child.waitForHttp(`${url}/health/ready`, 30_000);
  return { process: child, url, ...output };
}

/**
 * Everything `child` writes to stdout from now on, as written (`logs()` keeps only the lines that
 * start with `{`, which would hide a line that is not JSON), and when the last of it has arrived:
 * the exit comes before the end of the output. Call it right after starting the process, before
 * any await, so that nothing is missed.
 */
export function recordOutput(child: ServiceProcess): {
  stdout: () => string;
  closed: Promise<number | null>;
} {
  let stdout = '';
  child.child.stdout?.on('data', (chunk: string) => {
    stdout += chunk;
  });
  const closed = once(child.child, 'close').then(([code]) => code as number | null);
  return { stdout: () => stdout, closed };
}

/** Every non-empty line of `text` parsed as one JSON object; any other line throws, quoted. */
export function parseEveryLine(text: string, stream: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        throw new Error(`${stream} has a line that is not JSON: ${line}`);
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new Error(`${stream} has a line that is not a JSON object: ${line}`);
      }
      return parsed as Record<string, unknown>;
    });
}

export const authHeaders = {
  Authorization: `Bearer ${API_KEY}`,
  'Content-Type': 'application/json',
} as const;

/** Polls `probe` until it returns something other than undefined, or throws after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(
    `${what}: not within ${timeoutMs} ms${lastError instanceof Error ? ` (last error: ${lastError.message})` : ''}`,
  );
}

/** GET (or POST) that never throws: status and parsed body, or status 0 when nothing answered. */
export async function call(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; type: string; body: unknown }> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, type: res.headers.get('content-type') ?? '', body };
  } catch (error) {
    return { status: 0, type: '', body: String(error) };
  }
}

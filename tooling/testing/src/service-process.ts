import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';

export interface ServiceProcess {
  child: ChildProcess;
  /** Parsed JSON log lines so far (LOG_FORMAT=json). */
  logs(): Record<string, unknown>[];
  stderr(): string;
  waitForLog(
    predicate: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** Polls `url` until it answers 200. */
  waitForHttp(url: string, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number | null>;
  /** Sends `signal` and waits for the exit; SIGKILLs after `timeoutMs`. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
}

export interface ServiceProcessOptions {
  /**
   * Node's options before the entry. Default `['--conditions=development']`: TypeScript sources
   * and the workspace packages' development exports. Pass `[]` to run a built `dist/main.js` as
   * production does (plus e.g. `--cpu-prof` to profile it).
   */
  nodeArgs?: readonly string[];
  cwd?: string;
}

/**
 * Runs an app entry point (by default its TypeScript source, Node's type stripping, development
 * exports) as a real process with exactly the environment given plus PATH, and JSON logs to read
 * back.
 */
export function startServiceProcess(
  entry: string,
  env: Record<string, string>,
  options: ServiceProcessOptions = {},
): ServiceProcess {
  const nodeArgs = options.nodeArgs ?? ['--conditions=development'];
  const child = spawn(process.execPath, [...nodeArgs, entry], {
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);

  // only complete lines: the last one may still be arriving when a busy process is read
  const logs = () =>
    stdout
      .slice(0, stdout.lastIndexOf('\n') + 1)
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  const describeFailure = (what: string) =>
    new Error(
      `${what}\n--- stderr ---\n${stderr.slice(-4_000)}\n--- logs ---\n${stdout.slice(-4_000)}`,
    );

  return {
    child,
    logs,
    stderr: () => stderr,
    exited,
    async waitForLog(predicate, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const line = logs().find(predicate);
        if (line) return line;
        if (child.exitCode !== null) throw describeFailure(`process exited with ${child.exitCode}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw describeFailure(`no matching log line within ${timeoutMs} ms`);
    },
    async waitForHttp(url, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      let last = 'no answer';
      while (Date.now() < deadline) {
        if (child.exitCode !== null) throw describeFailure(`process exited with ${child.exitCode}`);
        try {
          const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
          if (response.status === 200) return;
          last = `${response.status}`;
        } catch (error) {
          last = String(error);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw describeFailure(`${url} did not answer 200 within ${timeoutMs} ms (last: ${last})`);
    },
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

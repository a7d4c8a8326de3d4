import { spawn, spawnSync } from 'node:child_process';

export interface RunResult {
  stdout: string;
  stderr: string;
  status: number;
  durationMs: number;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  timeoutMs?: number;
  /** Return a failed result instead of throwing. */
  allowFailure?: boolean;
}

const tail = (text: string, chars = 6_000) =>
  text.length > chars ? `…${text.slice(-chars)}` : text;

export function describeCommand(command: string, args: readonly string[]): string {
  return [command, ...args]
    .map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a)))
    .join(' ');
}

function failure(command: string, args: readonly string[], result: RunResult, why: string): Error {
  return new Error(
    `\`${describeCommand(command, args)}\` ${why}\n--- stderr ---\n${tail(result.stderr)}\n--- stdout ---\n${tail(result.stdout)}`,
  );
}

/** Runs a command to completion and captures its output; throws on a non-zero exit. */
export function run(command: string, args: readonly string[], options: RunOptions = {}): RunResult {
  const started = performance.now();
  const child = spawnSync(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    input: options.input,
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
    timeout: options.timeoutMs ?? 5 * 60_000,
  });
  const result: RunResult = {
    stdout: child.stdout ?? '',
    stderr: child.stderr ?? '',
    status: child.status ?? -1,
    durationMs: performance.now() - started,
  };
  if (child.error) throw failure(command, args, result, `could not run: ${child.error.message}`);
  if (result.status !== 0 && !options.allowFailure) {
    throw failure(command, args, result, `exited with ${child.signal ?? result.status}`);
  }
  return result;
}

/**
 * Runs a long command (image builds) with its output shown as it comes, so CI logs show progress,
 * and captured for assertions. Throws on a non-zero exit or after the timeout.
 */
export function runStreaming(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      process.stdout.write(chunk);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      process.stderr.write(chunk);
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), options.timeoutMs ?? 20 * 60_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = {
        stdout,
        stderr,
        status: code ?? -1,
        durationMs: performance.now() - started,
      };
      if (code === 0 || options.allowFailure) resolve(result);
      else reject(failure(command, args, result, `exited with ${signal ?? code}`));
    });
  });
}

/** Polls `probe` until it returns a value other than undefined; throws `describe()` on timeout. */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  { timeoutMs, intervalMs = 1_000 }: { timeoutMs: number; intervalMs?: number },
  describe: () => string = () => '',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? `\nlast error: ${lastError.message}` : '';
      throw new Error(
        `timed out after ${timeoutMs / 1000} s waiting for ${what}${cause}\n${describe()}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

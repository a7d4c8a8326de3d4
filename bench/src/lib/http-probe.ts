import { request } from 'node:http';

/** One GET on a fresh connection; resolves with the status, or null when nothing answered. */
export function getStatus(url: string, timeoutMs = 1_000): Promise<number | null> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? null));
      res.on('error', () => resolve(null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.end();
  });
}

/**
 * Polls `url` every `intervalMs` until it answers `status`; resolves with performance.now() of
 * that answer. Rejects after `timeoutMs` or when `gaveUp()` says the process is gone.
 */
export async function waitForStatus(
  url: string,
  options: {
    status?: number;
    timeoutMs?: number;
    intervalMs?: number;
    gaveUp?: () => string | undefined;
  } = {},
): Promise<number> {
  const { status = 200, timeoutMs = 30_000, intervalMs = 5 } = options;
  const deadline = performance.now() + timeoutMs;
  let last: number | null = null;
  while (performance.now() < deadline) {
    last = await getStatus(url, 1_000);
    if (last === status) return performance.now();
    const reason = options.gaveUp?.();
    if (reason) throw new Error(`${url}: ${reason}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms (last: ${last})`);
}

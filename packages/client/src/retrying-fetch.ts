import { JobstackConnectionError } from './errors.ts';

export interface RetryOptions {
  /** Attempts in all, the first one included; 1 turns retries off. Default 4. */
  maxAttempts?: number;
  /** The wait before the first retry; it doubles with each next one (with jitter). Default 500 ms. */
  baseDelayMs?: number;
  /** The longest wait between attempts, also for a longer Retry-After. Default 10 s. */
  maxDelayMs?: number;
}

export interface RetryingFetchOptions extends RetryOptions {
  /**
   * How long one attempt may take until its answer's headers arrive; an attempt that takes longer
   * is abandoned and counts as a network error. Default 60 s (above the 20 s `Prefer: wait` the
   * API may hold a request).
   */
  attemptTimeoutMs?: number;
  /**
   * Every request sent through this fetch is safe to send again whatever its method: a POST the
   * API makes idempotent without an Idempotency-Key (the client's README lists them). Default
   * false: a POST is retried only with an Idempotency-Key.
   */
  repeatable?: boolean;
}

const DEFAULTS = {
  maxAttempts: 4,
  baseDelayMs: 500,
  maxDelayMs: 10_000,
  attemptTimeoutMs: 60_000,
  repeatable: false,
} satisfies Required<RetryingFetchOptions>;

/** Methods that change nothing, or change the same thing however often they are sent (RFC 9110). */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/**
 * A request may be sent again when sending it twice has the effect of once: an idempotent method,
 * a POST carrying an Idempotency-Key (the API answers a repeat with the first job), or one the
 * caller knows to be repeatable (`repeatable`).
 */
export function isRetryable(request: Request, repeatable = false): boolean {
  return (
    repeatable || IDEMPOTENT_METHODS.has(request.method) || request.headers.has('idempotency-key')
  );
}

/**
 * Wraps `fetch` so that a retryable request answered 503 (the API's database or queue is away for
 * a moment, or it is too busy) or lost to a network error is sent again, the very same request
 * (its Idempotency-Key included), after Retry-After or an exponential backoff. openapi-fetch has
 * no retries of its own; this is the `fetch` it is given.
 */
export function retryingFetch(
  fetch: (request: Request) => Promise<Response>,
  options: RetryingFetchOptions = {},
): (request: Request) => Promise<Response> {
  const { maxAttempts, baseDelayMs, maxDelayMs, attemptTimeoutMs, repeatable } = {
    ...DEFAULTS,
    ...options,
  };
  return async (request) => {
    const attempts = isRetryable(request, repeatable) ? Math.max(1, maxAttempts) : 1;
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= attempts;
      let response: Response;
      // the limit ends once the answer's headers are in: reading its body (an event stream may
      // last long) is bounded by the caller's signal alone
      const attemptLimit = new AbortController();
      const timer = setTimeout(() => attemptLimit.abort(), attemptTimeoutMs);
      try {
        // each attempt sends a copy (a body can be read once) with its own time limit
        const copy = last ? request : request.clone();
        response = await fetch(
          new Request(copy, { signal: AbortSignal.any([request.signal, attemptLimit.signal]) }),
        );
      } catch (error) {
        // the caller's abort ends it all; the attempt's own time limit is a failure like the network's
        const timedOut = attemptLimit.signal.aborted && !request.signal.aborted;
        if (!timedOut && !isNetworkError(error)) throw error;
        const reason = timedOut ? `no answer within ${attemptTimeoutMs} ms` : describe(error);
        if (last) {
          throw new JobstackConnectionError(
            `${request.method} ${request.url} failed after ${attempt} attempt(s): ${reason}`,
            { cause: error },
          );
        }
        await sleep(backoff(attempt, baseDelayMs, maxDelayMs), request.signal);
        continue;
      } finally {
        clearTimeout(timer);
      }
      if (response.status !== 503 || last) return response;
      // the body is not needed: release the connection
      await response.body?.cancel();
      const delay = retryAfterMs(response) ?? backoff(attempt, baseDelayMs, maxDelayMs);
      await sleep(Math.min(delay, maxDelayMs), request.signal);
    }
  };
}

/** fetch rejects with a TypeError when no answer came (refused, reset, DNS); aborts are not that. */
function isNetworkError(error: unknown): boolean {
  return error instanceof TypeError;
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? String(error);
}

/** Full jitter: clients that failed together do not all come back at the same moment. */
function backoff(attempt: number, baseDelayMs: number, maxDelayMs: number): number {
  return Math.random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
}

/** Retry-After in seconds (the API's form); an HTTP date is honoured too. */
function retryAfterMs(response: Response): number | undefined {
  const value = response.headers.get('retry-after');
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1_000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Waits, unless the request is aborted meanwhile (then rejects with the abort reason). */
export function sleep(ms: number, signal?: AbortSignal | null): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

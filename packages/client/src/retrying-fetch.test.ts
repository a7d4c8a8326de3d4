import { describe, expect, it } from 'vitest';
import { JobstackConnectionError } from './errors.ts';
import { isRetryable, retryingFetch } from './retrying-fetch.ts';

/** A fetch that answers from a script, and records what each attempt sent. */
function scriptedFetch(script: (Response | Error)[]) {
  const sent: { method: string; key: string | null; body: string }[] = [];
  const fetch = async (request: Request) => {
    sent.push({
      method: request.method,
      key: request.headers.get('idempotency-key'),
      body: await request.text(),
    });
    const next = script.shift();
    if (next === undefined) throw new Error('the script ran out');
    if (next instanceof Error) throw next;
    return next;
  };
  return { fetch, sent };
}

const unavailable = (retryAfter?: string) =>
  new Response(JSON.stringify({ type: 'https://jobstack.dev/problems/queue-unavailable' }), {
    status: 503,
    headers: retryAfter === undefined ? {} : { 'Retry-After': retryAfter },
  });
const networkError = () => new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
const fast = { baseDelayMs: 1, maxDelayMs: 5 };

const post = (headers: Record<string, string> = {}) =>
  new Request('http://api.test/v1/jobs', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify({ type: 'system.echo', payload: {} }),
  });

describe('retryingFetch', () => {
  it('sends a POST with an Idempotency-Key again after 503s, the same key and body each time', async () => {
    const { fetch, sent } = scriptedFetch([
      unavailable('0'),
      unavailable(),
      new Response('{}', { status: 202 }),
    ]);
    const response = await retryingFetch(fetch, fast)(post({ 'Idempotency-Key': 'key-1' }));
    expect(response.status).toBe(202);
    expect(sent).toHaveLength(3);
    for (const attempt of sent) {
      expect(attempt).toEqual({
        method: 'POST',
        key: 'key-1',
        body: '{"type":"system.echo","payload":{}}',
      });
    }
  });

  it('sends it again after network errors, and says so once every attempt failed', async () => {
    const { fetch, sent } = scriptedFetch([networkError(), networkError(), networkError()]);
    const send = retryingFetch(fetch, { ...fast, maxAttempts: 3 });
    const failure = send(post({ 'Idempotency-Key': 'key-2' }));
    await expect(failure).rejects.toThrow(JobstackConnectionError);
    await expect(failure).rejects.toThrow(/after 3 attempt\(s\): ECONNREFUSED/);
    expect(sent).toHaveLength(3);
  });

  it('answers the last 503 when the attempts are used up', async () => {
    const { fetch, sent } = scriptedFetch([unavailable(), unavailable()]);
    const response = await retryingFetch(fetch, { ...fast, maxAttempts: 2 })(
      new Request('http://api.test/v1/jobs'),
    );
    expect(response.status).toBe(503);
    expect(sent).toHaveLength(2);
  });

  it('never sends a POST without an Idempotency-Key twice: it could do the work twice', async () => {
    const { fetch, sent } = scriptedFetch([unavailable()]);
    const response = await retryingFetch(fetch, fast)(post());
    expect(response.status).toBe(503);
    expect(sent).toHaveLength(1);

    const failing = scriptedFetch([networkError()]);
    await expect(retryingFetch(failing.fetch, fast)(post())).rejects.toThrow(
      JobstackConnectionError,
    );
    expect(failing.sent).toHaveLength(1);
  });

  it('sends a POST without a key again when its fetch is marked repeatable, the same body each time', async () => {
    const { fetch, sent } = scriptedFetch([
      unavailable('0'),
      networkError(),
      new Response('{}', { status: 200 }),
    ]);
    const send = retryingFetch(fetch, { ...fast, repeatable: true });
    expect((await send(post())).status).toBe(200);
    expect(sent).toHaveLength(3);
    for (const attempt of sent) {
      expect(attempt).toEqual({
        method: 'POST',
        key: null,
        body: '{"type":"system.echo","payload":{}}',
      });
    }
  });

  it('does not retry other answers or other errors', async () => {
    const { fetch, sent } = scriptedFetch([new Response('{}', { status: 500 })]);
    expect((await retryingFetch(fetch, fast)(new Request('http://api.test/v1/jobs'))).status).toBe(
      500,
    );
    expect(sent).toHaveLength(1);

    const aborted = scriptedFetch([new DOMException('aborted', 'AbortError')]);
    await expect(
      retryingFetch(aborted.fetch, fast)(new Request('http://api.test/v1/jobs')),
    ).rejects.toThrow('aborted');
    expect(aborted.sent).toHaveLength(1);
  });

  it('stops waiting between attempts when the request is aborted', async () => {
    const controller = new AbortController();
    const { fetch, sent } = scriptedFetch([unavailable('3600')]);
    const pending = retryingFetch(fetch, { maxDelayMs: 3_600_000 })(
      new Request('http://api.test/v1/jobs', { signal: controller.signal }),
    );
    setImmediate(() => controller.abort(new Error('given up')));
    await expect(pending).rejects.toThrow('given up');
    expect(sent).toHaveLength(1);
  });

  it('abandons an attempt that takes too long and sends the request again', async () => {
    /** Answers only when its request is aborted, by rejecting: a server that never answers. */
    const neverAnswers = (request: Request) =>
      new Promise<Response>((_resolve, reject) => {
        request.signal.addEventListener('abort', () => reject(request.signal.reason));
      });

    let attempts = 0;
    const slowThenFast = (request: Request) => {
      attempts++;
      return attempts === 1 ? neverAnswers(request) : Promise.resolve(new Response('{}'));
    };
    const response = await retryingFetch(slowThenFast, { ...fast, attemptTimeoutMs: 50 })(
      new Request('http://api.test/v1/jobs'),
    );
    expect(response.status).toBe(200);
    expect(attempts).toBe(2);

    await expect(
      retryingFetch(neverAnswers, { ...fast, maxAttempts: 2, attemptTimeoutMs: 20 })(
        new Request('http://api.test/v1/jobs'),
      ),
    ).rejects.toThrow(/after 2 attempt\(s\): no answer within 20 ms/);
  });

  it('lets an answer whose headers came in time stream its body for longer', async () => {
    // as fetch does, the request's signal also ends the body it answered with
    const slowBody = (request: Request) =>
      Promise.resolve(
        new Response(
          new ReadableStream<Uint8Array>({
            start(controller) {
              request.signal.addEventListener('abort', () =>
                controller.error(request.signal.reason),
              );
              setTimeout(() => {
                controller.enqueue(new TextEncoder().encode('event: status\n\n'));
                controller.close();
              }, 200);
            },
          }),
        ),
      );
    const response = await retryingFetch(slowBody, { ...fast, attemptTimeoutMs: 20 })(
      new Request('http://api.test/v1/jobs/1/events'),
    );
    await expect(response.text()).resolves.toBe('event: status\n\n');
  });

  it('knows which requests are safe to send twice', () => {
    expect(isRetryable(new Request('http://api.test/', { method: 'GET' }))).toBe(true);
    expect(isRetryable(new Request('http://api.test/', { method: 'DELETE' }))).toBe(true);
    expect(isRetryable(post())).toBe(false);
    expect(isRetryable(post({ 'Idempotency-Key': 'k' }))).toBe(true);
    expect(isRetryable(post(), true)).toBe(true);
    expect(isRetryable(new Request('http://api.test/', { method: 'PATCH', body: '{}' }))).toBe(
      false,
    );
  });
});

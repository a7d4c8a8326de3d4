export interface ReadinessAnswer {
  status: number;
  body: Record<string, unknown>;
}

/**
 * Polls a `/health/ready` URL until the app says it has started (`lifecycle: 'ready'`), whatever
 * the checks say, and returns that answer: for tests of an app that starts but must not be ready.
 */
export async function readinessOnceStarted(
  url: string,
  timeoutMs = 30_000,
): Promise<ReadinessAnswer> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      const body = (await response.json()) as Record<string, unknown>;
      if (body.lifecycle === 'ready') return { status: response.status, body };
      last = `${response.status} ${JSON.stringify(body)}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not report lifecycle "ready" within ${timeoutMs} ms; last: ${last}`);
}

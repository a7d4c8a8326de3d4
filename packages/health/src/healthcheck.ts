// The Docker HEALTHCHECK of every image, so no curl or wget ships in them: each app's
// src/healthcheck.ts calls runHealthcheck with the port its own environment gives.

export interface HealthcheckOptions {
  port: number;
  /** Default /health/ready. */
  path?: string;
  /** Default 3 s: below the HEALTHCHECK --timeout of the Dockerfiles. */
  timeoutMs?: number;
}

/** Asks the service's readiness on loopback: ok when it answers 200, else why not. */
export async function checkReadiness({
  port,
  path = '/health/ready',
  timeoutMs = 3_000,
}: HealthcheckOptions): Promise<{ ok: true } | { ok: false; reason: string }> {
  const url = `http://127.0.0.1:${port}${path}`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const body = await response.text();
    if (response.status === 200) return { ok: true };
    return { ok: false, reason: `${url} answered ${response.status}: ${body.slice(0, 500)}` };
  } catch (error) {
    return { ok: false, reason: `${url}: ${error instanceof Error ? error.message : error}` };
  }
}

/** checkReadiness as a process: exit code 0 when ready, else 1 with the reason on stderr. */
export async function runHealthcheck(options: HealthcheckOptions): Promise<void> {
  const result = await checkReadiness(options);
  if (!result.ok) {
    console.error(result.reason);
    process.exitCode = 1;
  }
}

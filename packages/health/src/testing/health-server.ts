import { fileURLToPath } from 'node:url';
import { startServiceProcess } from '@repo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHealth, type Health } from '../health.ts';
import { type HealthServer, startHealthServer } from '../server.ts';

/**
 * A real health server with no checks on a free loopback port, its logger silent: readiness
 * answers 503 until the test calls `health.setLifecycle('ready')`.
 */
export async function startTestHealthServer(
  service: string,
): Promise<{ health: Health; server: HealthServer }> {
  const health = createHealth({ service, version: '1', timeoutMs: 100, checks: [] });
  const server = await startHealthServer({
    health,
    port: 0,
    host: '127.0.0.1',
    logger: { warn: () => undefined, error: () => undefined },
  });
  return { health, server };
}

export interface HealthcheckEntryOptions {
  /** The app's src/healthcheck.ts. */
  entry: URL;
  /** The app, as its health report names it. */
  service: string;
  /** The variable the app reads its health port from (PORT for the api, else HEALTH_PORT). */
  portVariable: string;
}

/**
 * The tests of an app's Docker HEALTHCHECK entry, as Docker runs it: a process whose exit code is
 * the answer, asking a real health server's /health/ready on the port the app reads from
 * `portVariable`. Every app's entry is runHealthcheck over its own port variable, so every app
 * runs these same tests (from its own healthcheck.test.ts).
 */
export function describeHealthcheckEntry(options: HealthcheckEntryOptions): void {
  const entry = fileURLToPath(options.entry);

  async function healthcheck(env: Record<string, string>) {
    const check = startServiceProcess(entry, env);
    return { code: await check.exited, stderr: check.stderr() };
  }

  describe(`${options.service} healthcheck entry (real process and HTTP)`, () => {
    let health: Health;
    let server: HealthServer;

    beforeAll(async () => {
      ({ health, server } = await startTestHealthServer(options.service));
    });
    afterAll(() => server.close());

    it(`exits 1 with the answer while ${options.service} is not ready, 0 once it is`, async () => {
      const env = { [options.portVariable]: String(server.port) };
      const starting = await healthcheck(env);
      expect(starting.code).toBe(1);
      expect(starting.stderr).toContain(
        `http://127.0.0.1:${server.port}/health/ready answered 503`,
      );
      health.setLifecycle('ready');
      expect(await healthcheck(env)).toEqual({ code: 0, stderr: '' });
    });

    it(`exits 1 when ${options.portVariable} is not a port`, async () => {
      expect((await healthcheck({ [options.portVariable]: 'eighty' })).code).toBe(1);
    });
  });
}

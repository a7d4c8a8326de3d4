import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHealth, type Health } from '@repo/health';
import { healthRouter } from '@repo/health/express';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRailway, loadRender } from './load.ts';
import { readRepoFile } from './repo.ts';

// The platforms probe the api's health check path before routing traffic to a new instance. Render
// keeps probing it while the instance runs and restarts an instance that fails it for 60 s in a row;
// Railway probes it only while a deploy starts. The path must be a route of the health router the
// api mounts; this serves that very router, with a dependency check that can fail, and asks it.
const probed = [...loadRender().targets, ...loadRailway().targets]
  .filter((t) => t.healthCheck !== undefined)
  .map((t) => ({
    label: `${t.file} ${t.name}`,
    service: t.service,
    path: t.healthCheck?.path ?? '',
    restarts: t.healthCheck?.restartsFailingInstances ?? false,
  }));

describe('health check paths', () => {
  let health: Health;
  let server: Server;
  let base: string;
  let databaseUp = true;

  beforeAll(async () => {
    health = createHealth({
      service: 'api',
      version: 'test',
      checks: [
        {
          name: 'database',
          run: async () => {
            if (!databaseUp)
              throw Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' });
          },
        },
      ],
      timeoutMs: 1_000,
      // each test flips the dependency and asks at once: no result may be reused across them
      cacheMs: 0,
    });
    const app = express();
    app.use(healthRouter(health));
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => {
    server.close();
  });

  it('are set for the api on every platform, and only for the api (the only HTTP service)', () => {
    expect(probed.map((p) => p.service)).toEqual(['api', 'api']);
  });

  it('the api mounts the health router at its root', () => {
    // A router mounted under a prefix would move every path below it.
    expect(readRepoFile('apps/api/src/app.ts')).toMatch(/\bapp\.use\(\s*healthRouter\(/);
  });

  it.each(probed)(
    '$label probes $path, which answers 200 once the api is ready',
    async ({ path }) => {
      health.setLifecycle('ready');
      expect((await fetch(`${base}${path}`)).status).toBe(200);
    },
  );

  it.each(probed.filter((p) => p.restarts))(
    '$label probes $path, which stays 200 while a dependency is down: an outage longer than a minute restarts no instance, and the api answers 503 problem+json itself',
    async ({ path }) => {
      health.setLifecycle('ready');
      databaseUp = false;
      try {
        expect((await fetch(`${base}${path}`)).status).toBe(200);
      } finally {
        databaseUp = true;
      }
    },
  );

  it.each(probed.filter((p) => !p.restarts))(
    '$label probes $path only while a deploy starts: 503 while a dependency is down, so a new version does not go live against it',
    async ({ path }) => {
      health.setLifecycle('ready');
      databaseUp = false;
      try {
        expect((await fetch(`${base}${path}`)).status).toBe(503);
      } finally {
        databaseUp = true;
      }
    },
  );

  it('an unknown path is not mistaken for a health route', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(404);
  });
});

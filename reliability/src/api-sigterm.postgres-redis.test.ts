// SIGTERM to the api while clients keep it busy (real process, real PostgreSQL and Redis): every
// request the api received is answered, none with a 5xx; slow uploads and long-polls in flight
// at the signal complete; the process exits 0. Requests that never reached it (refused or reset
// connections after it stopped listening) are not in flight and are only counted.

import { randomUUID } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { migrate } from '@repo/db';
import {
  createTestDatabase,
  createTestRedisPrefix,
  TEST_REDIS_URL,
  type TestDatabase,
  type TestRedisPrefix,
} from '@repo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_KEY, type RunningApp, startApp } from './lib/apps.ts';

interface Outcome {
  requestId: string;
  what: string;
  status?: number;
  error?: string;
}

const CLIENTS = 16;

function send(
  url: URL,
  agent: Agent | false,
  method: 'GET' | 'POST',
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): { outcome: Promise<Outcome>; request: ReturnType<typeof httpRequest> } {
  const requestId = randomUUID();
  const what = `${method} ${path}`;
  const request = httpRequest({
    host: url.hostname,
    port: url.port,
    method,
    path,
    agent,
    headers: {
      Authorization: `Bearer ${API_KEY}`,
      'X-Request-Id': requestId,
      ...(body === undefined
        ? {}
        : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }),
      ...headers,
    },
  });
  const outcome = new Promise<Outcome>((resolve) => {
    request.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ requestId, what, status: res.statusCode ?? 0 }));
      res.on('error', (error) => resolve({ requestId, what, error: String(error) }));
    });
    request.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ requestId, what, error: error.code ?? error.message }),
    );
  });
  return { outcome, request };
}

describe('SIGTERM to the api under load (real PostgreSQL and Redis)', () => {
  let database: TestDatabase;
  let keys: TestRedisPrefix;
  let api: RunningApp;

  beforeAll(async () => {
    database = await createTestDatabase('reliability_sigterm');
    await migrate({ databaseUrl: database.url });
    keys = createTestRedisPrefix('reliability-sigterm');
    api = await startApp('api', {
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: keys.prefix,
    });
  });
  afterAll(async () => {
    await api?.process.stop('SIGKILL');
    await keys?.cleanup();
    await database?.drop();
  });

  it('answers every request it received, none with a 5xx, and exits 0', async () => {
    const url = new URL(api.url);
    const body = JSON.stringify({ type: 'system.echo', payload: { data: 'load' } });
    const seed = send(url, false, 'POST', '/v1/jobs', body);
    seed.request.end(body);
    const seeded = await seed.outcome;
    expect(seeded.status).toBe(202);
    // no worker runs: the job stays queued, so long-polls on it wait until shutdown answers them
    const { id } = (await (
      await fetch(`${api.url}/v1/jobs`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json' },
        body,
      })
    ).json()) as { id: string };

    const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
    const outcomes: Promise<Outcome>[] = [];
    let stopped = false;
    const client = async (n: number) => {
      for (let i = 0; !stopped && i < 5_000; i += 1) {
        const post = (n + i) % 3 === 0;
        const sent = post
          ? send(url, agent, 'POST', '/v1/jobs', body)
          : send(url, agent, 'GET', `/v1/jobs/${id}`);
        sent.request.end(post ? body : undefined);
        outcomes.push(sent.outcome);
        const outcome = await sent.outcome;
        if (outcome.error) await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const clients = Array.from({ length: CLIENTS }, (_, n) => client(n));

    // in flight at the signal: long-polls, and uploads of which only a part has arrived
    const longPolls = Array.from({ length: 4 }, () => {
      const sent = send(url, false, 'GET', `/v1/jobs/${id}`, undefined, { Prefer: 'wait=15' });
      sent.request.end();
      return sent.outcome;
    });
    const uploads = Array.from({ length: 4 }, () => {
      const sent = send(url, false, 'POST', '/v1/jobs', body);
      sent.request.write(body.slice(0, 10));
      return { ...sent, rest: body.slice(10) };
    });

    await new Promise((resolve) => setTimeout(resolve, 1_500));
    api.process.child.kill('SIGTERM');
    await api.process.waitForLog((line) => line.msg === 'shutting down');
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const upload of uploads) upload.request.end(upload.rest);

    const exitCode = await api.process.exited;
    stopped = true;
    await Promise.all(clients);
    agent.destroy();
    const all = await Promise.all(outcomes);

    expect(exitCode).toBe(0);
    for (const answer of await Promise.all(longPolls)) expect(answer.status).toBe(200);
    for (const answer of await Promise.all(uploads.map((u) => u.outcome)))
      expect(answer.status).toBe(202);

    // what the api saw: one log line per request it received and answered
    const logs = api.process.logs();
    const received = new Map<string, number>();
    for (const line of logs) {
      const res = line.res as { statusCode?: number } | undefined;
      if (typeof line.requestId === 'string' && res?.statusCode !== undefined) {
        received.set(line.requestId, res.statusCode);
      }
    }
    const answered = all.filter((o) => o.status !== undefined);
    const unanswered = all.filter((o) => o.status === undefined);
    expect(answered.length).toBeGreaterThan(100);
    expect(answered.filter((o) => (o.status ?? 0) >= 500)).toEqual([]);
    // a request the api received was answered to the client, with the status it logged
    for (const outcome of all) {
      const logged = received.get(outcome.requestId);
      if (logged !== undefined) expect(outcome).toMatchObject({ status: logged });
    }
    // what failed never reached the api: the connection was refused or closed before it
    expect(unanswered.filter((o) => received.has(o.requestId))).toEqual([]);
    for (const o of unanswered)
      expect(o.error).toMatch(/ECONNREFUSED|ECONNRESET|socket hang up|EPIPE/);
    // and the signal did land in the middle of the load
    const shuttingDown = logs.findIndex((line) => line.msg === 'shutting down');
    const answeredAfter = logs
      .slice(shuttingDown)
      .filter((line) => line.msg === 'request completed').length;
    expect(answeredAfter).toBeGreaterThanOrEqual(8);
  });
});

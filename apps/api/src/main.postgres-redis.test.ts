import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { expectUnreadyOnEvictingRedis } from '@repo/jobs/testing';
import {
  createTestDatabase,
  createTestRedisPrefix,
  freePort,
  type ServiceProcess,
  startServiceProcess,
  TEST_REDIS_URL,
  type TestDatabase,
  type TestRedisPrefix,
} from '@repo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_API_KEY } from './testing/api-under-test.ts';

const entry = new URL('./main.ts', import.meta.url).pathname;

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

function collect(res: IncomingMessage): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let body = '';
    res.setEncoding('utf8').on('data', (chunk: string) => {
      body += chunk;
    });
    res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    res.on('error', reject);
  });
}

describe('api process (real PostgreSQL and Redis)', () => {
  let database: TestDatabase;
  let keys: TestRedisPrefix;
  const processes: ServiceProcess[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('api-process');
    keys = createTestRedisPrefix('api-process');
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    await keys?.cleanup();
    await database?.drop();
  });

  async function startApi(env: Record<string, string> = {}) {
    const port = await freePort();
    const api = startServiceProcess(entry, {
      DATABASE_URL: database.url,
      MIGRATE_ON_START: 'true',
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: keys.prefix,
      API_KEYS: TEST_API_KEY,
      HOST: '127.0.0.1',
      PORT: String(port),
      ...env,
    });
    processes.push(api);
    const url = `http://127.0.0.1:${port}`;
    await api.waitForHttp(`${url}/health/ready`);
    return { api, url, port };
  }

  it('is not ready while Redis may evict keys, and says why', async () => {
    await expectUnreadyOnEvictingRedis({
      start: (redisUrl, port) => {
        const api = startServiceProcess(entry, {
          DATABASE_URL: database.url,
          MIGRATE_ON_START: 'true',
          REDIS_URL: redisUrl,
          QUEUE_PREFIX: keys.prefix,
          API_KEYS: TEST_API_KEY,
          HOST: '127.0.0.1',
          PORT: String(port),
        });
        processes.push(api);
        return api;
      },
      okChecks: ['database', 'redis'],
    });
  });

  it('refuses to start in production without API keys, naming the variable', {
    timeout: 30_000,
  }, async () => {
    const api = startServiceProcess(entry, {
      NODE_ENV: 'production',
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL,
    });
    processes.push(api);
    expect(await api.exited).toBe(1);
    expect(api.stderr()).toContain('API_KEYS: is required when NODE_ENV=production');
  });

  it('on SIGTERM finishes in-flight requests, answers long-polls, drops idle keep-alive sockets and exits 0', {
    timeout: 60_000,
  }, async () => {
    // no drain delay: the listener closes at once (the drain has its own test below)
    const { api, url, port } = await startApi({ SHUTDOWN_DRAIN_DELAY: '0s' });
    const headers = { Authorization: `Bearer ${TEST_API_KEY}`, 'Content-Type': 'application/json' };

    // main.ts adds Node's process metrics to the app's own
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(metrics).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(metrics).toContain('jobstack_queue_jobs{state="waiting"}');

    // an idle keep-alive connection: it must not keep the server open
    const keepAlive = new Agent({ keepAlive: true });
    const first = await fetchWith(keepAlive, `${url}/health/live`);
    expect(first.status).toBe(200);
    expect(first.headers.connection).toBe('keep-alive');

    // a job to long-poll on (no worker runs, so it stays queued)
    const created = await fetch(`${url}/v1/jobs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ type: 'system.echo', payload: {} }),
    });
    const { id } = (await created.json()) as { id: string };
    const longPoll = fetch(`${url}/v1/jobs/${id}`, {
      headers: { ...headers, Prefer: 'wait=20' },
    });

    // an upload still arriving when SIGTERM comes: the request is in flight, its handler not run
    const body = JSON.stringify({ type: 'system.echo', payload: { data: 'slow upload' } });
    const upload = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/v1/jobs',
      agent: false,
      headers: { ...headers, 'Content-Length': Buffer.byteLength(body) },
    });
    const uploadAnswer = new Promise<Answer>((resolve, reject) => {
      upload.on('response', (res) => collect(res).then(resolve, reject));
      upload.on('error', reject);
    });
    upload.write(body.slice(0, 10));
    await new Promise((resolve) => setTimeout(resolve, 300));

    const signalled = performance.now();
    api.child.kill('SIGTERM');
    await api.waitForLog((line) => line.msg === 'shutting down');

    // the long-poll is answered at once with the job as it is
    const polled = await longPoll;
    expect(polled.status).toBe(200);
    expect(((await polled.json()) as { status: string }).status).toBe('queued');
    expect(performance.now() - signalled).toBeLessThan(2_000);

    // no new connections while draining
    await expect(fetch(`${url}/health/live`)).rejects.toThrow();

    // the upload completes and is answered, with Connection: close
    await new Promise((resolve) => setTimeout(resolve, 500));
    upload.end(body.slice(10));
    const answer = await uploadAnswer;
    expect(answer.status).toBe(202);
    expect(answer.headers.connection).toBe('close');
    expect(JSON.parse(answer.body)).toMatchObject({
      status: 'queued',
      payload: { data: 'slow upload' },
    });

    expect(await api.exited).toBe(0);
    expect(performance.now() - signalled).toBeLessThan(3_000);
    expect(api.logs().some((line) => line.msg === 'stopped')).toBe(true);
    keepAlive.destroy();
  });

  it('keeps serving with readiness 503 for SHUTDOWN_DRAIN_DELAY after SIGTERM, then closes the listener', {
    timeout: 60_000,
  }, async () => {
    const { api, url } = await startApi({ SHUTDOWN_DRAIN_DELAY: '3s' });
    const headers = { Authorization: `Bearer ${TEST_API_KEY}`, 'Content-Type': 'application/json' };
    const signalled = performance.now();
    api.child.kill('SIGTERM');
    await api.waitForLog((line) => line.msg === 'draining: readiness is 503');

    // load balancers see readiness fail, while new connections are still accepted and answered
    const ready = await fetch(`${url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { lifecycle: string }).lifecycle).toBe('stopping');
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
    const created = await fetch(`${url}/v1/jobs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ type: 'system.echo', payload: { data: 'while draining' } }),
    });
    expect(created.status).toBe(202);
    // keep-alive connections are not reused: their clients reconnect, elsewhere
    expect(created.headers.get('connection')).toBe('close');
    expect(performance.now() - signalled).toBeLessThan(3_000);

    expect(await api.exited).toBe(0);
    expect(performance.now() - signalled).toBeGreaterThan(3_000);
    await expect(fetch(`${url}/health/live`)).rejects.toThrow();
    const messages = api.logs().map((line) => line.msg);
    expect(messages.indexOf('draining: readiness is 503')).toBeLessThan(
      messages.indexOf('stopped'),
    );
  });

  it('cuts requests still running at SHUTDOWN_TIMEOUT and exits 1', {
    timeout: 60_000,
  }, async () => {
    const { api, port } = await startApi({ SHUTDOWN_TIMEOUT: '1s', SHUTDOWN_DRAIN_DELAY: '0s' });
    const stuck = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/v1/jobs',
      agent: false,
      headers: {
        Authorization: `Bearer ${TEST_API_KEY}`,
        'Content-Type': 'application/json',
        'Content-Length': 1_000,
      },
    });
    const closed = new Promise<string>((resolve) => {
      stuck.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      stuck.on('response', (res) => resolve(`answered ${res.statusCode}`));
    });
    stuck.write('{"type":');
    await new Promise((resolve) => setTimeout(resolve, 300));

    const signalled = performance.now();
    api.child.kill('SIGTERM');
    expect(await api.exited).toBe(1);
    const elapsed = performance.now() - signalled;
    expect(elapsed).toBeGreaterThan(900);
    expect(elapsed).toBeLessThan(3_500);
    expect(await closed).toBe('ECONNRESET');
  });
});

function fetchWith(agent: Agent, url: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    httpRequest(url, { agent }, (res) => collect(res).then(resolve, reject))
      .on('error', reject)
      .end();
  });
}

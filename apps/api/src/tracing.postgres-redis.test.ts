import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createTestDatabase,
  createTestRedisPrefix,
  freePort,
  READY_DEADLINE_MS,
  type ServiceProcess,
  startServiceProcess,
  TEST_REDIS_URL,
  type TestDatabase,
  type TestRedisPrefix,
} from '@repo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_API_KEY } from './testing/api-under-test.ts';

const apiEntry = new URL('./main.ts', import.meta.url).pathname;
const apiTracing = new URL('./tracing.ts', import.meta.url).pathname;
const workerEntry = new URL('../../worker/src/main.ts', import.meta.url).pathname;
const workerTracing = new URL('../../worker/src/tracing.ts', import.meta.url).pathname;

/** A span as OTLP/HTTP's JSON protocol sends it (ids in hex), with its service's name. */
interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

const SPAN_KIND = { server: 2, client: 3, producer: 4, consumer: 5 } as const;

/** An outgoing HTTP request's span (OpenTelemetry's stable HTTP conventions). */
const isHttpClient = (span: ReceivedSpan) =>
  span.kind === SPAN_KIND.client && span.attributes['http.request.method'] !== undefined;

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpExport {
  resourceSpans?: {
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: {
      spans?: (Omit<ReceivedSpan, 'service' | 'attributes'> & { attributes?: OtlpAttribute[] })[];
    }[];
  }[];
}

const attributeValue = (value: OtlpValue) => value.stringValue ?? value.intValue ?? value.boolValue;
const attributesOf = (attributes: OtlpAttribute[] = []) =>
  Object.fromEntries(attributes.map(({ key, value }) => [key, attributeValue(value)]));

/** What an OpenTelemetry collector would be: an OTLP/HTTP endpoint taking JSON, keeping the spans. */
async function startOtlpReceiver() {
  const spans: ReceivedSpan[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.url !== '/v1/traces' || !req.headers['content-type']?.startsWith('application/json')) {
      res.statusCode = 415;
      res.end();
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport;
    for (const resourceSpans of body.resourceSpans ?? []) {
      const service = String(attributesOf(resourceSpans.resource?.attributes)['service.name']);
      for (const scope of resourceSpans.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) {
          spans.push({
            service,
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId ?? '',
            name: span.name,
            kind: span.kind,
            attributes: attributesOf(span.attributes),
          });
        }
      }
    }
    res.setHeader('content-type', 'application/json');
    res.end('{}');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans };
}

async function until<T>(what: string, read: () => T | undefined): Promise<T> {
  const deadline = Date.now() + READY_DEADLINE_MS;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('one trace from the request to the webhook (real api and worker processes)', () => {
  let database: TestDatabase;
  let keys: TestRedisPrefix;
  let otlp: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let hooks: Server;
  let hookUrl: string;
  let api: ServiceProcess;
  let worker: ServiceProcess;
  let apiUrl: string;

  beforeAll(async () => {
    database = await createTestDatabase('tracing');
    keys = createTestRedisPrefix('tracing');
    otlp = await startOtlpReceiver();
    // the first delivery fails (503), so the worker logs an attempt; the retry succeeds
    let deliveries = 0;
    hooks = createServer((_req, res) => {
      deliveries += 1;
      res.statusCode = deliveries === 1 ? 503 : 200;
      res.end();
    });
    hooks.listen(0, '127.0.0.1');
    await once(hooks, 'listening');
    hookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hook`;

    const tracingEnv = {
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      // export within a fraction of a second rather than the default five
      OTEL_BSP_SCHEDULE_DELAY: '200',
    };
    const apiPort = await freePort();
    apiUrl = `http://127.0.0.1:${apiPort}`;
    api = startServiceProcess(
      apiEntry,
      {
        ...tracingEnv,
        DATABASE_URL: database.url,
        MIGRATE_ON_START: 'true',
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: keys.prefix,
        API_KEYS: TEST_API_KEY,
        HOST: '127.0.0.1',
        PORT: String(apiPort),
      },
      { nodeArgs: ['--conditions=development', '--import', apiTracing] },
    );
    await api.waitForHttp(`${apiUrl}/health/ready`);
    const healthPort = await freePort();
    worker = startServiceProcess(
      workerEntry,
      {
        ...tracingEnv,
        DATABASE_URL: database.url,
        REDIS_URL: TEST_REDIS_URL,
        QUEUE_PREFIX: keys.prefix,
        WEBHOOK_SIGNING_SECRET: `whsec_${Buffer.from('tracing-test-signing-secret-0123456789').toString('base64')}`,
        WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
        HEALTH_HOST: '127.0.0.1',
        HEALTH_PORT: String(healthPort),
      },
      { nodeArgs: ['--conditions=development', '--import', workerTracing] },
    );
    await worker.waitForHttp(`http://127.0.0.1:${healthPort}/health/ready`);
  });
  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    hooks?.close();
    otlp?.server.close();
    await keys?.cleanup();
    await database?.drop();
  });

  it('links request → insert → enqueue → worker → handler → webhook under one trace id', async () => {
    const res = await fetch(`${apiUrl}/v1/jobs`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TEST_API_KEY}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'webhook.deliver', payload: { url: hookUrl, body: { n: 1 } } }),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };

    const server = await until('the api to export its request span', () =>
      otlp.spans.find((span) => span.service === 'api' && span.name === 'POST /v1/jobs'),
    );
    const inTrace = () => otlp.spans.filter((span) => span.traceId === server.traceId);
    const child = (parent: ReceivedSpan, match: (span: ReceivedSpan) => boolean) =>
      inTrace().find((span) => span.parentSpanId === parent.spanId && match(span));
    const descendants = (root: ReceivedSpan): ReceivedSpan[] => {
      const below = inTrace().filter((span) => span.parentSpanId === root.spanId);
      return [...below, ...below.flatMap(descendants)];
    };

    const process = await until('the worker to export the webhook delivery', () => {
      const found = otlp.spans.find(
        (span) => span.service === 'worker' && span.name === 'process webhook.deliver',
      );
      return found && child(found, isHttpClient) ? found : undefined;
    });

    expect(server).toMatchObject({ kind: SPAN_KIND.server, parentSpanId: '' });
    expect(server.attributes['http.route']).toBe('/v1/jobs');
    const enqueue = child(server, (span) => span.name === 'enqueue webhook.deliver');
    expect(enqueue).toMatchObject({
      service: 'api',
      kind: SPAN_KIND.producer,
      attributes: expect.objectContaining({ 'messaging.message.id': id }),
    });
    // the INSERT under the request, the BullMQ commands under the enqueue
    expect(
      descendants(server).some(
        (span) => span.service === 'api' && span.attributes['db.system.name'] === 'postgresql',
      ),
    ).toBe(true);
    expect(
      descendants(enqueue as ReceivedSpan).some(
        (span) => span.attributes['db.system.name'] === 'redis',
      ),
    ).toBe(true);

    // the worker's attempt continues the trace the job carried
    expect(process).toMatchObject({
      traceId: server.traceId,
      parentSpanId: enqueue?.spanId,
      kind: SPAN_KIND.consumer,
    });
    const webhook = child(process, isHttpClient);
    expect(webhook).toMatchObject({
      service: 'worker',
      attributes: expect.objectContaining({ 'http.request.method': 'POST', 'url.full': hookUrl }),
    });
    expect(
      descendants(process).some(
        (span) => span.service === 'worker' && span.attributes['db.system.name'] === 'postgresql',
      ),
    ).toBe(true);

    // the job's log lines carry the same trace id
    const jobLine = await worker.waitForLog((line) => line.jobId === id);
    expect(jobLine).toMatchObject({
      msg: 'job attempt failed',
      type: 'webhook.deliver',
      attempt: 1,
      traceId: server.traceId,
    });
    const requestLine = await api.waitForLog(
      (line) =>
        line.msg === 'request completed' && (line.req as { method?: string })?.method === 'POST',
    );
    expect(requestLine.traceId).toBe(server.traceId);
  });
});

import { connect } from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_TYPE_BASE } from './problems.ts';
import { type ApiUnderTest, auth, startApiUnderTest } from './testing/api-under-test.ts';

interface MalformedRequest {
  name: string;
  method?: 'get' | 'post' | 'put' | 'delete';
  path?: string;
  headers?: Record<string, string>;
  /** Sent as is when a string, as JSON otherwise. */
  body?: string | object;
  /** The problem expected; just "any 4xx problem" when omitted. */
  status?: number;
  slug?: string;
}

const echo = { type: 'system.echo', payload: { data: 1 } };
const json = { 'Content-Type': 'application/json' };

// Each row is a request a careless or hostile client could send. Every one must get a 4xx
// problem+json: a 5xx would mean the API crashed on input, which is its bug, not the client's.
const cases: MalformedRequest[] = [
  { name: 'text/plain body', headers: { 'Content-Type': 'text/plain' }, body: 'hi', status: 415 },
  {
    name: 'form-encoded body',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'type=system.echo',
    status: 415,
    slug: 'unsupported-media-type',
  },
  {
    name: 'JSON in an unsupported charset',
    headers: { 'Content-Type': 'application/json; charset=latin1' },
    body: '{}',
    status: 415,
  },
  {
    name: 'truncated JSON',
    headers: json,
    body: '{"type": "system.echo", ',
    status: 400,
    slug: 'malformed-json',
  },
  {
    name: 'not JSON at all',
    headers: json,
    body: "' OR 1=1 --",
    status: 400,
    slug: 'malformed-json',
  },
  { name: 'a JSON string, not an object', headers: json, body: '"system.echo"', status: 400 },
  { name: 'a JSON array', headers: json, body: '[1,2,3]', status: 400, slug: 'validation-failed' },
  { name: 'JSON null', headers: json, body: 'null', status: 400 },
  { name: 'an empty body', headers: json, body: '', status: 400 },
  { name: 'no body and no content type', status: 400, slug: 'validation-failed' },
  {
    name: 'a body over BODY_LIMIT',
    headers: json,
    body: JSON.stringify({ ...echo, payload: { data: 'x'.repeat(20_000) } }),
    status: 413,
    slug: 'payload-too-large',
  },
  {
    name: 'type is a number',
    body: { type: 42, payload: {} },
    status: 400,
    slug: 'validation-failed',
  },
  { name: 'type is missing', body: { payload: {} }, status: 400, slug: 'validation-failed' },
  {
    name: 'payload is missing',
    body: { type: 'system.echo' },
    status: 400,
    slug: 'validation-failed',
  },
  {
    name: 'an unknown top-level field',
    body: { ...echo, priorty: 1 },
    status: 400,
    slug: 'validation-failed',
  },
  {
    name: 'an unknown payload field',
    body: { type: 'system.echo', payload: { data: 1, admin: true } },
    status: 400,
    slug: 'validation-failed',
  },
  { name: 'maxAttempts as a string', body: { ...echo, maxAttempts: '3' }, status: 400 },
  { name: 'runAt as a number', body: { ...echo, runAt: 1_700_000_000 }, status: 400 },
  {
    name: 'a prototype-pollution key',
    headers: json,
    body: '{"__proto__":{"admin":true},"type":"system.echo","payload":{}}',
    status: 400,
  },
  {
    name: 'a NUL character in the payload',
    body: { type: 'system.echo', payload: { data: 'a\u0000b' } },
    status: 400,
    slug: 'validation-failed',
  },
  {
    name: 'a lone UTF-16 surrogate in the payload',
    headers: json,
    body: '{"type":"system.echo","payload":{"data":"\\ud800"}}',
    status: 400,
    slug: 'validation-failed',
  },
  {
    name: 'a lone UTF-16 surrogate in a payload key',
    headers: json,
    body: '{"type":"system.echo","payload":{"data":{"ok":1,"\\udc00x":1}}}',
    status: 400,
    slug: 'validation-failed',
  },
  {
    name: 'a number beyond the range of a double',
    headers: json,
    body: '{"type":"system.echo","payload":{"data":[1,1e400]}}',
    status: 400,
    slug: 'validation-failed',
  },
  {
    name: 'SQL in the type',
    body: { type: "system.echo'; DROP TABLE jobs; --", payload: {} },
    status: 400,
    slug: 'unknown-job-type',
  },
  {
    name: 'markup in the type',
    body: { type: '<script>alert(1)</script>', payload: {} },
    status: 400,
  },
  { name: 'a huge type name', body: { type: 'x'.repeat(5_000), payload: {} }, status: 400 },
  {
    name: 'control characters in the type',
    body: { type: 'system.echo\u0000\u001b[2J', payload: {} },
    status: 400,
  },
  {
    // valid JSON 5,000 levels deep, plus an unknown field: parsed and validated without overflowing
    name: 'a deeply nested payload',
    headers: json,
    body: `{"type":"system.echo","payload":{"data":${'['.repeat(5_000)}${']'.repeat(5_000)},"x":1}}`,
    status: 400,
  },
  {
    name: 'an SSRF-looking webhook URL scheme',
    body: { type: 'webhook.deliver', payload: { url: 'file:///etc/passwd', body: {} } },
    status: 400,
  },
  {
    name: 'an injection-looking job id',
    method: 'get',
    path: "/v1/jobs/1' OR '1'='1",
    status: 400,
  },
  {
    name: 'a path-traversal job id',
    method: 'get',
    path: '/v1/jobs/..%2F..%2Fetc%2Fpasswd',
    status: 400,
  },
  { name: 'a numeric job id', method: 'get', path: '/v1/jobs/12345', status: 400 },
  {
    name: 'an over-long job id',
    method: 'get',
    path: `/v1/jobs/${'a'.repeat(2_000)}`,
    status: 400,
  },
  { name: 'a malformed id on cancel', method: 'post', path: '/v1/jobs/%00/cancel', status: 400 },
  { name: 'a badly encoded path', method: 'get', path: '/v1/jobs/%E0%A4%A', status: 400 },
  { name: 'a negative limit', method: 'get', path: '/v1/jobs?limit=-1', status: 400 },
  { name: 'a huge limit', method: 'get', path: '/v1/jobs?limit=1e309', status: 400 },
  { name: 'an array-style query', method: 'get', path: '/v1/jobs?status[]=queued', status: 400 },
  {
    name: 'an over-long cursor',
    method: 'get',
    path: `/v1/jobs?cursor=${'a'.repeat(600)}`,
    status: 400,
  },
  { name: 'a garbage cursor', method: 'get', path: '/v1/jobs?cursor=%27%3B--', status: 400 },
  { name: 'no Authorization', headers: { Authorization: '' }, body: echo, status: 401 },
  { name: 'Bearer without a token', headers: { Authorization: 'Bearer' }, body: echo, status: 401 },
  {
    name: 'a token with odd characters',
    headers: { Authorization: 'Bearer a b c' },
    body: echo,
    status: 401,
  },
  {
    name: 'a huge token',
    headers: { Authorization: `Bearer ${'a'.repeat(8_000)}` },
    body: echo,
    status: 401,
  },
  {
    name: 'a non-ASCII token',
    headers: { Authorization: 'Bearer clé-clé-clé-clé-clé-clé' },
    body: echo,
    status: 401,
  },
  {
    name: 'a huge X-Request-Id',
    headers: { 'X-Request-Id': 'r'.repeat(8_000) },
    body: { type: 42 },
    status: 400,
  },
  {
    name: 'an odd X-Request-Id',
    headers: { 'X-Request-Id': '"><img src=x>' },
    body: { type: 42 },
    status: 400,
  },
  {
    name: 'a huge Idempotency-Key',
    headers: { 'Idempotency-Key': 'k'.repeat(1_000) },
    body: echo,
    status: 400,
  },
  {
    name: 'a non-ASCII Idempotency-Key',
    headers: { 'Idempotency-Key': 'clé' },
    body: echo,
    status: 400,
  },
  {
    name: 'a malformed Prefer header',
    method: 'get',
    path: '/v1/jobs/00000000-0000-4000-8000-000000000000',
    headers: { Prefer: 'wait=-5, wait=abc, wait=99999999999' },
    status: 404,
  },
  {
    name: 'an unknown method on a known path',
    method: 'put',
    path: '/v1/jobs/00000000-0000-4000-8000-000000000000',
    status: 405,
  },
  { name: 'an unknown path', method: 'get', path: '/v1/../../etc/passwd', status: 404 },
];

describe('malformed requests (real PostgreSQL and Redis)', () => {
  let api: ApiUnderTest;

  beforeAll(async () => {
    api = await startApiUnderTest('api-malformed', { env: { BODY_LIMIT: '16kb' } });
  });
  afterAll(async () => {
    await api?.close();
  });

  it.each(cases)('$name → 4xx problem+json', async (c) => {
    let req = request(api.url)
      [c.method ?? 'post'](c.path ?? '/v1/jobs')
      .set(auth);
    for (const [name, value] of Object.entries(c.headers ?? {})) {
      req = value === '' ? req.unset(name) : req.set(name, value);
    }
    const res = await (c.body === undefined ? req : req.send(c.body));

    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    if (c.status !== undefined) expect(res.status).toBe(c.status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({
      type: expect.stringContaining(PROBLEM_TYPE_BASE),
      title: expect.any(String),
      status: res.status,
      requestId: res.headers['x-request-id'],
    });
    if (c.slug !== undefined) expect(res.body.type).toBe(`${PROBLEM_TYPE_BASE}${c.slug}`);
    expect(res.text).not.toMatch(/\bat .+\.(ts|js):\d+/);
  });

  it('answers HTTP that Node cannot parse with a problem, before the app', async () => {
    const huge = await rawExchange(
      `GET /v1/jobs HTTP/1.1\r\nHost: x\r\nX-Request-Id: ${'h'.repeat(20_000)}\r\n\r\n`,
    );
    expect(huge).toMatch(/^HTTP\/1\.1 431 /);
    expect(huge).toContain('Content-Type: application/problem+json');
    expect(huge).toContain(`"type":"${PROBLEM_TYPE_BASE}headers-too-large"`);

    const garbage = await rawExchange('NOT HTTP AT ALL\r\n\r\n');
    expect(garbage).toMatch(/^HTTP\/1\.1 400 /);
    expect(garbage).toContain(`"type":"${PROBLEM_TYPE_BASE}malformed-request"`);

    const control = await rawExchange(
      'GET /health/live HTTP/1.1\r\nHost: x\r\nX-A: a\u0001b\r\n\r\n',
    );
    expect(control).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('is still healthy afterwards', async () => {
    await request(api.url).get('/health/ready').expect(200);
  });

  function rawExchange(raw: string): Promise<string> {
    const { port } = new URL(api.url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.end(raw));
      let received = '';
      socket.setEncoding('utf8').on('data', (chunk: string) => {
        received += chunk;
      });
      socket.on('error', reject);
      socket.on('close', () => resolve(received));
    });
  }
});

import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_TYPE_BASE } from '../problems.ts';
import { type ApiUnderTest, startApiUnderTest } from '../testing/api-under-test.ts';

/** The policy the reference page needs: this origin's scripts, styles and images, nothing else. */
const REFERENCE_CSP =
  "default-src 'none';base-uri 'none';script-src 'self';script-src-attr 'none';style-src 'self' 'unsafe-inline';img-src 'self' data:;connect-src 'self';object-src 'none';form-action 'none';frame-ancestors 'none'";

describe('the API reference at /docs (real PostgreSQL and Redis)', () => {
  let api: ApiUnderTest;

  beforeAll(async () => {
    api = await startApiUnderTest('api-reference');
  });
  afterAll(async () => {
    await api?.close();
  });

  it('serves the page without credentials, under a CSP that allows this origin only', async () => {
    const bare = await request(api.url).get('/docs');
    // the page names its assets relative to /docs/
    expect(bare.status).toBe(301);
    expect(bare.headers.location).toBe('/docs/');

    const page = await request(api.url).get('/docs/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('<title>jobstack API reference</title>');
    expect(page.headers['content-security-policy']).toBe(REFERENCE_CSP);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    // no inline script: every <script> has a src on this server
    const scripts = [...page.text.matchAll(/<script([^>]*)>/g)].map((match) => match[1] ?? '');
    expect(scripts.length).toBeGreaterThan(0);
    for (const attributes of scripts) expect(attributes).toMatch(/src="\.\/[\w.-]+\.js"/);

    // the rest of the app keeps its own policy
    const contract = await request(api.url).get('/v1/openapi.json');
    expect(contract.headers['content-security-policy']).toBe(
      "default-src 'none';frame-ancestors 'none'",
    );
  });

  it('serves every asset the page names, and the script that points Swagger UI at the document', async () => {
    const page = await request(api.url).get('/docs/');
    const assets = [...page.text.matchAll(/(?:src|href)="\.\/([\w.-]+)"/g)].map((m) => m[1]);
    expect(assets).toEqual(
      expect.arrayContaining(['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-ui-init.js']),
    );
    for (const asset of assets) {
      const res = await request(api.url).get(`/docs/${asset}`);
      expect(res.status, asset).toBe(200);
      expect(res.headers['content-type'], asset).toMatch(
        asset?.endsWith('.js')
          ? /javascript/
          : asset?.endsWith('.css')
            ? /^text\/css/
            : /^image\/png/,
      );
    }
    const init = await request(api.url).get('/docs/swagger-ui-init.js');
    expect(init.text).toContain('"swaggerUrl": "/v1/openapi.json"');
    expect(init.text).toContain('"validatorUrl": null');
  });

  it('serves nothing else of swagger-ui-dist, and answers 405 to other methods', async () => {
    for (const path of ['index.html', 'swagger-initializer.js', 'package.json', 'nothing.js']) {
      const res = await request(api.url).get(`/docs/${path}`);
      expect(res.status, path).toBe(404);
      expect(res.body.type, path).toBe(`${PROBLEM_TYPE_BASE}not-found`);
    }
    const post = await request(api.url).post('/docs/');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD, OPTIONS');
  });
});

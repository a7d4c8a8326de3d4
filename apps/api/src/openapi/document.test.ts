import { readFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import type { OpenAPI } from 'openapi-types';
import { describe, expect, it } from 'vitest';
import { problemTypes } from '../problems.ts';
import { API_OPERATIONS, createOpenApiDocument, renderOpenApiDocument } from './document.ts';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/** Every operation of the document, with its path and method. */
function operationsOf(document: ReturnType<typeof createOpenApiDocument>) {
  return Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
    HTTP_METHODS.flatMap((method) => {
      const operation = item?.[method];
      return operation === undefined ? [] : [{ path, method, operation }];
    }),
  );
}

describe('the OpenAPI document', () => {
  it('apps/api/openapi.json is what the contracts generate (run `pnpm --filter @repo/api openapi`)', () => {
    const committed = readFileSync(new URL('../../openapi.json', import.meta.url), 'utf8');
    expect(committed).toBe(renderOpenApiDocument());
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    // validate() dereferences in place: it gets a copy
    const document = structuredClone(createOpenApiDocument()) as OpenAPI.Document;
    await expect(SwaggerParser.validate(document)).resolves.toMatchObject({ openapi: '3.1.0' });
  });

  it('the validator rejects a broken document (so the test above can fail)', async () => {
    const document = structuredClone(createOpenApiDocument()) as unknown as {
      paths: Record<string, Record<string, { parameters: { in: string }[] }>>;
    };
    const parameter = document.paths['/v1/jobs']?.get?.parameters[0];
    if (parameter) parameter.in = 'nowhere';
    await expect(SwaggerParser.validate(document as unknown as OpenAPI.Document)).rejects.toThrow();
  });

  it('has one operation per declared contract, each with a unique operationId', () => {
    const operations = operationsOf(createOpenApiDocument());
    expect(operations).toHaveLength(API_OPERATIONS.length);
    const ids = operations.map(({ operation }) => operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('asks for the API key on every /v1 operation but the document itself', () => {
    for (const { path, operation } of operationsOf(createOpenApiDocument())) {
      const expected =
        path.startsWith('/v1/') && path !== '/v1/openapi.json' ? [{ apiKey: [] }] : undefined;
      if (expected) expect(operation.security, path).toEqual(expected);
      else expect(operation.security, path).not.toContainEqual({ apiKey: [] });
    }
  });

  it('answers every problem as application/problem+json, with the type named', () => {
    const { paths } = createOpenApiDocument();
    const created = paths?.['/v1/jobs']?.post?.responses;
    for (const slug of [
      'validation-failed',
      'unauthorized',
      'idempotency-key-reused',
      'queue-unavailable',
    ] as const) {
      const response = created?.[String(problemTypes[slug].status)];
      expect(response?.description, slug).toContain(`\`${slug}\``);
      expect(response?.content, slug).toEqual({
        'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
      });
    }
    expect(created?.['503']?.headers).toHaveProperty('Retry-After');
  });

  it('describes pagination and the security schemes', () => {
    const document = createOpenApiDocument();
    const parameters = document.paths?.['/v1/jobs']?.get?.parameters ?? [];
    expect(parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          in: 'query',
          name: 'limit',
          schema: expect.objectContaining({ type: 'integer', default: 20, maximum: 100 }),
        }),
        expect.objectContaining({ in: 'query', name: 'cursor' }),
      ]),
    );
    expect(document.components?.securitySchemes).toMatchObject({
      apiKey: { type: 'http', scheme: 'bearer' },
    });
  });
});

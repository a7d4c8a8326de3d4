import type { z } from 'zod';
import { createDocument } from 'zod-openapi';
import { problemTypes, problemTypeUri } from '../problems.ts';
import { healthOperations } from '../routes/health.contract.ts';
import { jobAttemptsOperations } from '../routes/job-attempts.contract.ts';
import { jobsOperations } from '../routes/jobs.contract.ts';
import { getOpenApiDocument } from '../routes/openapi.contract.ts';
import { schedulesOperations } from '../routes/schedules.contract.ts';
import { webhookEndpointsOperations } from '../routes/webhook-endpoints.contract.ts';
import { type ApiOperation, openApiPath, toOpenApiOperation } from './operation.ts';

/** Every operation the api serves, in the document's order. */
export const API_OPERATIONS: readonly ApiOperation[] = [
  ...jobsOperations,
  ...jobAttemptsOperations,
  ...webhookEndpointsOperations,
  ...schedulesOperations,
  ...healthOperations,
  getOpenApiDocument,
];

/** The major version of the contract, as in the /v1 paths: the document changes within it only compatibly. */
const CONTRACT_VERSION = '1';

const PROBLEM_TYPES_DESCRIPTION = Object.entries(problemTypes)
  .map(
    ([slug, { status, title }]) =>
      `- \`${problemTypeUri(slug as keyof typeof problemTypes)}\` (${status}): ${title}.`,
  )
  .join('\n');

export type OpenApiDocument = ReturnType<typeof createDocument>;

/**
 * The OpenAPI 3.1 document of the api, built from the operations' zod schemas (the ones the
 * routers validate with). apps/api/openapi.json is this, written by `pnpm --filter @repo/api
 * openapi`; a test fails when that file is stale.
 */
export function createOpenApiDocument(): OpenApiDocument {
  const paths: Record<string, Record<string, ReturnType<typeof toOpenApiOperation>>> = {};
  for (const operation of API_OPERATIONS) {
    const path = openApiPath(operation.path);
    paths[path] = { ...paths[path], [operation.method]: toOpenApiOperation(operation) };
  }
  return createDocument(
    {
      openapi: '3.1.0',
      info: {
        title: 'jobstack API',
        version: CONTRACT_VERSION,
        description: `Background jobs over HTTP: create them, follow them, cancel them. PostgreSQL is the record of every job.\n\nEvery error is \`application/problem+json\` (RFC 9457); clients branch on its \`type\`:\n\n${PROBLEM_TYPES_DESCRIPTION}`,
      },
      tags: [
        { name: 'Jobs', description: 'Background jobs: create, follow, list and cancel them.' },
        {
          name: 'Webhook endpoints',
          description: 'Where the API delivers job events, signed (Standard Webhooks).',
        },
        { name: 'Schedules', description: 'The recurring schedules.' },
        { name: 'Health', description: 'Probes and metrics for orchestrators and Prometheus.' },
        { name: 'Contract', description: 'This document.' },
      ],
      paths,
      components: {
        securitySchemes: {
          apiKey: {
            type: 'http',
            scheme: 'bearer',
            description: 'One of API_KEYS: `Authorization: Bearer <key>`.',
          },
          metricsToken: {
            type: 'http',
            scheme: 'bearer',
            description: 'METRICS_TOKEN, when it is set: `Authorization: Bearer <token>`.',
          },
        },
      },
    },
    {
      // z.json() (payload fields such as webhook.deliver's `body`) is a union that refers to
      // itself (arrays and objects of JSON values); rendered as such, openapi-typescript makes a
      // type that refers to itself, which TypeScript rejects. It means any JSON value: {}.
      override: ({ zodSchema, jsonSchema }) => {
        if (!isJsonValueUnion(zodSchema)) return;
        for (const key of Object.keys(jsonSchema)) delete jsonSchema[key];
        jsonSchema.description = 'Any JSON value.';
      },
    },
  );
}

/** The union z.json() builds: its array member's elements are the lazy schema of z.json() itself. */
function isJsonValueUnion(schema: z.core.$ZodType): boolean {
  const { def } = schema._zod;
  return (
    def.type === 'union' &&
    (def as z.core.$ZodUnionDef).options.some((option) => {
      const member = option._zod.def;
      return (
        member.type === 'array' && (member as z.core.$ZodArrayDef).element._zod.def.type === 'lazy'
      );
    })
  );
}

/** apps/api/openapi.json: the document, two-space indented, with a final newline. */
export function renderOpenApiDocument(): string {
  return `${JSON.stringify(createOpenApiDocument(), null, 2)}\n`;
}

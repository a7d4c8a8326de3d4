import { z } from 'zod';
import { COMMON_PROBLEMS, defineOperation } from '../openapi/operation.ts';

export const OPENAPI_DOCUMENT_PATH = '/v1/openapi.json';

export const getOpenApiDocument = defineOperation({
  method: 'get',
  path: OPENAPI_DOCUMENT_PATH,
  operationId: 'getOpenApiDocument',
  summary: 'This document',
  description:
    'Open to anyone, like the repository that holds it: it describes the API and holds no secret, and generators and documentation renderers fetch it without credentials.',
  tag: 'Contract',
  security: 'none',
  responses: {
    200: {
      description: 'The OpenAPI 3.1 document.',
      content: {
        'application/json': {
          schema: z.looseObject({ openapi: z.string() }).meta({ id: 'OpenApiDocument' }),
        },
      },
    },
  },
  problems: COMMON_PROBLEMS,
});

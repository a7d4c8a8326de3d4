import { z } from 'zod';
import type {
  ZodOpenApiOperationObject,
  ZodOpenApiResponseObject,
  ZodOpenApiResponsesObject,
} from 'zod-openapi';
import { type ProblemSlug, problemTypes, problemTypeUri } from '../problems.ts';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Who may call an operation: an API key, the metrics token (when one is set), or anyone. */
export type OperationSecurity = 'apiKey' | 'metricsToken' | 'none';

/**
 * One route's contract, declared once next to its router: the router validates each part of the
 * request with these schemas (parseRequestPart), and the OpenAPI document is built from them.
 */
export interface ApiOperation {
  method: HttpMethod;
  /** The Express path, e.g. `/v1/jobs/:id`. */
  path: string;
  /** Stable and unique: client generators name their methods after it. */
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  security: OperationSecurity;
  request?: {
    params?: z.ZodObject;
    query?: z.ZodObject;
    headers?: z.ZodObject;
    body?: z.ZodType;
  };
  /** The successful answers, by status. */
  responses: ZodOpenApiResponsesObject;
  /** Every problem type the operation can answer with; the document groups them by status. */
  problems: readonly ProblemSlug[];
}

/** Declares an operation, keeping its literal types (so routers get its schemas' exact types). */
export function defineOperation<const O extends ApiOperation>(operation: O): O {
  return operation;
}

/** Problems any request past the request timeout may meet. */
export const COMMON_PROBLEMS = ['request-timeout', 'internal-error'] as const;
/** Problems of every /v1 operation: it needs an API key, and it is past the request timeout. */
export const AUTHENTICATED_PROBLEMS = ['unauthorized', ...COMMON_PROBLEMS] as const;
/** Problems of an operation that reads a JSON body. */
export const JSON_BODY_PROBLEMS = [
  'unsupported-media-type',
  'malformed-json',
  'payload-too-large',
  'validation-failed',
] as const;

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** The query parameters of every keyset-paginated list: `limit` (of `items` per page) and `cursor`. */
export function keysetPageQueryFields(
  items: string,
  cursorDescription = "The previous page's `nextCursor`.",
) {
  return {
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(MAX_PAGE_SIZE)
      .default(DEFAULT_PAGE_SIZE)
      .meta({ description: `${items} per page.` }),
    cursor: z.string().min(1).max(512).optional().meta({ description: cursorDescription }),
  };
}

/** The paging members of every keyset-paginated list (jobs, webhook endpoints, schedules). */
export const keysetPageFields = {
  nextCursor: z.string().nullable().meta({ description: 'null on the last page.' }),
  links: z.strictObject({ self: z.string(), next: z.string().nullable() }),
};

/** A JSON value: what a job's payload and result may hold. */
export const jsonValueSchema = z.unknown().meta({
  description: 'Any JSON value.',
});

const validationIssueSchema = z
  .looseObject({
    code: z.string().meta({ description: "zod's issue code, e.g. `invalid_type`." }),
    path: z.array(z.union([z.string(), z.number()])).meta({
      description: 'Where the issue is, from the request part: `["body", "payload", "url"]`.',
    }),
    message: z.string(),
  })
  .meta({
    id: 'ValidationIssue',
    description: 'One issue of a failed validation, as zod reports it.',
  });

/**
 * RFC 9457 problem details: every error the API answers with. Members beyond the standard ones
 * appear only with the problem types that carry them (the README's table of problem types).
 */
export const problemSchema = z
  .looseObject({
    type: z.url().meta({
      description: `The problem type, the stable identifier to branch on: ${problemTypeUri('job-not-found')} and the others of the same base.`,
    }),
    title: z
      .string()
      .meta({ description: 'A short summary of the problem type; may be reworded.' }),
    status: z.int().meta({ description: 'The HTTP status code.' }),
    detail: z.string().meta({ description: 'What happened to this request, in words.' }),
    instance: z.string().meta({ description: 'The request path.' }),
    requestId: z.string().meta({
      description: 'The X-Request-Id of the exchange; the server log lines carry it too.',
    }),
    errors: z
      .array(validationIssueSchema)
      .optional()
      .meta({ description: '`validation-failed`: every issue found.' }),
    jobId: z.uuid().optional().meta({ description: 'The job the problem is about.' }),
    jobStatus: z.string().optional().meta({ description: '`job-not-cancellable`: its status.' }),
    webhookEndpointId: z
      .uuid()
      .optional()
      .meta({ description: '`webhook-endpoint-not-found`: the endpoint asked for.' }),
    jobMayExist: z.boolean().optional().meta({
      description:
        'On a 503 of POST /v1/jobs: whether the job may have been created (retry with the same Idempotency-Key).',
    }),
    knownTypes: z
      .array(z.string())
      .optional()
      .meta({ description: '`unknown-job-type`: the types clients may enqueue.' }),
    links: z
      .object({ job: z.string() })
      .optional()
      .meta({ description: 'Where the job named by `jobId` is.' }),
    key: z.string().optional().meta({
      description:
        '`schedule-not-found`, `schedule-exists`, `schedule-read-only`: the schedule key.',
    }),
    source: z.enum(['code']).optional().meta({
      description: '`schedule-exists`, `schedule-read-only`: the key is declared in code.',
    }),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details.' });

/** Headers the API sends with some problems, by the status they come with. */
const PROBLEM_HEADERS: Partial<Record<number, z.ZodObject>> = {
  401: z.object({
    'WWW-Authenticate': z.string().meta({ description: 'The Bearer challenge (RFC 6750).' }),
  }),
  415: z.object({
    'Accept-Post': z.string().meta({ description: 'The media type to send: application/json.' }),
  }),
  503: z.object({
    'Retry-After': z
      .string()
      .optional()
      .meta({ description: 'Seconds to wait before retrying (absent on request-timeout).' }),
  }),
};

/** The operation's problem types, grouped into one response per status. */
export function problemResponses(
  slugs: readonly ProblemSlug[],
): Record<`${number}`, ZodOpenApiResponseObject> {
  const byStatus = new Map<number, ProblemSlug[]>();
  for (const slug of new Set(slugs)) {
    const { status } = problemTypes[slug];
    byStatus.set(status, [...(byStatus.get(status) ?? []), slug]);
  }
  const responses: Record<`${number}`, ZodOpenApiResponseObject> = {};
  for (const [status, statusSlugs] of [...byStatus].sort(([a], [b]) => a - b)) {
    const headers = PROBLEM_HEADERS[status];
    responses[`${status}`] = {
      description: statusSlugs.map((slug) => `\`${slug}\`: ${problemTypes[slug].title}.`).join(' '),
      content: { 'application/problem+json': { schema: problemSchema } },
      ...(headers === undefined ? {} : { headers }),
    };
  }
  return responses;
}

/** `/v1/jobs/:id` → `/v1/jobs/{id}`. */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

const SECURITY: Record<OperationSecurity, ZodOpenApiOperationObject['security']> = {
  apiKey: [{ apiKey: [] }],
  // /metrics is open until METRICS_TOKEN is set: either is a way in
  metricsToken: [{ metricsToken: [] }, {}],
  none: [],
};

/** The operation as zod-openapi takes it. */
export function toOpenApiOperation(operation: ApiOperation): ZodOpenApiOperationObject {
  const { request } = operation;
  return {
    operationId: operation.operationId,
    summary: operation.summary,
    ...(operation.description === undefined ? {} : { description: operation.description }),
    tags: [operation.tag],
    security: SECURITY[operation.security],
    requestParams: {
      ...(request?.params === undefined ? {} : { path: request.params }),
      ...(request?.query === undefined ? {} : { query: request.query }),
      ...(request?.headers === undefined ? {} : { header: request.headers }),
    },
    ...(request?.body === undefined
      ? {}
      : {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: request.body } },
          },
        }),
    responses: { ...operation.responses, ...problemResponses(operation.problems) },
  };
}

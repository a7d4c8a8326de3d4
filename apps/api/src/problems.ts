/**
 * Every error the API answers with is one of these RFC 9457 problem types. The `type` URI is the
 * stable identifier clients branch on; titles may be reworded, slugs never change.
 */
export const PROBLEM_TYPE_BASE = 'https://jobstack.dev/problems/';

export const problemTypes = {
  'malformed-request': { status: 400, title: 'The request is not valid HTTP' },
  'validation-failed': { status: 400, title: 'The request is not valid' },
  'malformed-json': { status: 400, title: 'The request body is not valid JSON' },
  'unknown-job-type': { status: 400, title: 'Unknown job type' },
  'invalid-cursor': { status: 400, title: 'The pagination cursor is not valid' },
  unauthorized: { status: 401, title: 'Authentication required' },
  'not-found': { status: 404, title: 'Not found' },
  'job-not-found': { status: 404, title: 'Job not found' },
  'webhook-endpoint-not-found': { status: 404, title: 'Webhook endpoint not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  'job-not-cancellable': { status: 409, title: 'The job can no longer be cancelled' },
  'job-not-retryable': { status: 409, title: 'The job cannot be retried' },
  'request-incomplete': { status: 408, title: 'The request did not arrive in time' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported media type' },
  'idempotency-key-reused': {
    status: 422,
    title: 'The Idempotency-Key was already used for a different request',
  },
  'headers-too-large': { status: 431, title: 'The request headers are too large' },
  'internal-error': { status: 500, title: 'Internal server error' },
  'database-unavailable': { status: 503, title: 'The database is unavailable' },
  'queue-unavailable': { status: 503, title: 'The job queue is unavailable' },
  'request-timeout': { status: 503, title: 'The request took too long' },
  'server-busy': { status: 503, title: 'The server is too busy to take the request now' },
  'webhook-secrets-unavailable': {
    status: 503,
    title: 'Webhook endpoint secrets cannot be made on this server',
  },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemSlug = keyof typeof problemTypes;

export function problemTypeUri(slug: ProblemSlug): string {
  return `${PROBLEM_TYPE_BASE}${slug}`;
}

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  requestId: string;
  [extension: string]: unknown;
}

export interface ProblemOptions {
  /** Members added to the problem object, e.g. `errors`, `jobId`, `knownTypes`. */
  extensions?: Record<string, unknown>;
  /** Response headers that belong to the answer, e.g. Allow, WWW-Authenticate, Retry-After. */
  headers?: Record<string, string>;
  cause?: unknown;
}

/**
 * An error that already knows the problem it becomes. Routes and middleware throw these; the
 * error boundary is the only place that turns errors into responses.
 */
export class ProblemError extends Error {
  override readonly name: string = 'ProblemError';
  readonly slug: ProblemSlug;
  readonly status: number;
  readonly extensions: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string>>;

  constructor(slug: ProblemSlug, detail: string, options: ProblemOptions = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.slug = slug;
    this.status = problemTypes[slug].status;
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
  }
}

/** One issue of a failed validation, in the shape zod reports it (path, message, code). */
export interface ValidationIssue {
  code: string;
  path: readonly PropertyKey[];
  message: string;
  [detail: string]: unknown;
}

export class ValidationError extends ProblemError {
  override readonly name = 'ValidationError';
  readonly issues: readonly ValidationIssue[];

  constructor(detail: string, issues: readonly ValidationIssue[]) {
    super('validation-failed', detail, { extensions: { errors: issues.map(toJsonIssue) } });
    this.issues = issues;
  }
}

/** Zod paths may contain symbols, which JSON cannot carry. */
function toJsonIssue(issue: ValidationIssue): ValidationIssue {
  return { ...issue, path: issue.path.map((key) => (typeof key === 'symbol' ? String(key) : key)) };
}

export class NotFoundError extends ProblemError {
  override readonly name = 'NotFoundError';

  constructor(path: string) {
    super('not-found', `Nothing is served at ${path}.`);
  }
}

export class JobNotFoundError extends ProblemError {
  override readonly name = 'JobNotFoundError';

  constructor(id: string) {
    super('job-not-found', `There is no job with id ${id}.`, { extensions: { jobId: id } });
  }
}

export class WebhookEndpointNotFoundError extends ProblemError {
  override readonly name = 'WebhookEndpointNotFoundError';

  constructor(id: string) {
    super('webhook-endpoint-not-found', `There is no webhook endpoint with id ${id}.`, {
      extensions: { webhookEndpointId: id },
    });
  }
}

export class MethodNotAllowedError extends ProblemError {
  override readonly name = 'MethodNotAllowedError';

  constructor(method: string, allowed: readonly string[]) {
    super('method-not-allowed', `${method} is not allowed here; use ${allowed.join(', ')}.`, {
      headers: { Allow: allowed.join(', ') },
    });
  }
}

export class UnauthorizedError extends ProblemError {
  override readonly name = 'UnauthorizedError';

  constructor(detail: string, challenge: string) {
    super('unauthorized', detail, { headers: { 'WWW-Authenticate': challenge } });
  }
}

export class UnsupportedMediaTypeError extends ProblemError {
  override readonly name = 'UnsupportedMediaTypeError';

  constructor(received: string | undefined) {
    super(
      'unsupported-media-type',
      received
        ? `Content-Type ${received} is not accepted; send application/json.`
        : 'The request has no Content-Type; send application/json.',
      { headers: { 'Accept-Post': 'application/json' } },
    );
  }
}

/** Which backing service could not be reached. */
export type Dependency = 'database' | 'redis';

/** Long enough for a restart or a failover; short enough that clients retry soon after. */
export const RETRY_AFTER_SECONDS = 5;

/** Too much work is already waiting (a bounded queue is full): try again after Retry-After. */
export class ServerBusyError extends ProblemError {
  override readonly name = 'ServerBusyError';

  constructor(detail: string, options: { cause?: unknown; extensions?: Record<string, unknown> }) {
    super('server-busy', detail, {
      cause: options.cause,
      extensions: options.extensions,
      headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) },
    });
  }
}

/**
 * Not a problem to answer: a request's work was abandoned because its time ran out (it has been
 * answered 503 already) or because the client closed the connection (nobody is left to answer).
 */
export class RequestAbandonedError extends Error {
  override readonly name = 'RequestAbandonedError';
}

export class DependencyUnavailableError extends ProblemError {
  override readonly name = 'DependencyUnavailableError';
  readonly dependency: Dependency;

  constructor(
    dependency: Dependency,
    detail: string,
    options: { cause?: unknown; extensions?: Record<string, unknown> } = {},
  ) {
    super(dependency === 'database' ? 'database-unavailable' : 'queue-unavailable', detail, {
      cause: options.cause,
      extensions: options.extensions,
      headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) },
    });
    this.dependency = dependency;
  }
}

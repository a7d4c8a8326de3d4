import type { components } from './api-types.ts';

/** RFC 9457 problem details, as the API answers every error. */
export type Problem = components['schemas']['Problem'];
export type Job = components['schemas']['Job'];

/** Where the API's problem types live: `type` is this followed by the slug. */
export const PROBLEM_TYPE_BASE = 'https://jobstack.dev/problems/';

/**
 * The API answered with an error (application/problem+json). Branch on `type` (or `slug`, its
 * last segment); `title` and `detail` are for people and may be reworded.
 */
export class JobstackApiError extends Error {
  override readonly name = 'JobstackApiError';
  readonly status: number;
  /** The problem type URI, e.g. https://jobstack.dev/problems/job-not-found. */
  readonly type: string;
  /** The type's last segment, e.g. `job-not-found`; undefined for a type not of the API's. */
  readonly slug: string | undefined;
  readonly title: string;
  readonly detail: string;
  /** The exchange's X-Request-Id: quote it when reporting a problem. */
  readonly requestId: string | undefined;
  /** The whole problem, with the members particular to its type (`errors`, `jobId`, …). */
  readonly problem: Problem;

  constructor(status: number, problem: Problem) {
    super(`${problem.status} ${problem.title}: ${problem.detail}`);
    this.status = status;
    this.type = problem.type;
    this.slug = problem.type.startsWith(PROBLEM_TYPE_BASE)
      ? problem.type.slice(PROBLEM_TYPE_BASE.length)
      : undefined;
    this.title = problem.title;
    this.detail = problem.detail;
    this.requestId = problem.requestId || undefined;
    this.problem = problem;
  }

  /**
   * The error for a failed response. An answer that is not a problem (a proxy's HTML error page)
   * becomes an `about:blank` problem (RFC 9457's default type) whose detail is its start.
   */
  static from(response: Response, body: unknown): JobstackApiError {
    if (isProblem(body)) return new JobstackApiError(response.status, body);
    const text = typeof body === 'string' ? body : JSON.stringify(body ?? '');
    return new JobstackApiError(response.status, {
      type: 'about:blank',
      title: response.statusText || `HTTP ${response.status}`,
      status: response.status,
      detail: text.slice(0, 500),
      instance: new URL(response.url || 'http://unknown/').pathname,
      requestId: response.headers.get('x-request-id') ?? '',
    });
  }
}

function isProblem(body: unknown): body is Problem {
  if (typeof body !== 'object' || body === null) return false;
  const { type, title, status, detail } = body as Record<string, unknown>;
  return (
    typeof type === 'string' &&
    typeof title === 'string' &&
    typeof status === 'number' &&
    typeof detail === 'string'
  );
}

/** The API could not be reached (every attempt failed before an answer arrived). */
export class JobstackConnectionError extends Error {
  override readonly name = 'JobstackConnectionError';
}

/** waitForJob's time ran out before the job finished; `job` is how it was last seen. */
export class WaitForJobTimeoutError extends Error {
  override readonly name = 'WaitForJobTimeoutError';
  readonly job: Job;

  constructor(job: Job, timeoutMs: number) {
    super(`job ${job.id} is still ${job.status} after ${timeoutMs} ms`);
    this.job = job;
  }
}

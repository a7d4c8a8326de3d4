import createClient, { type Client } from 'openapi-fetch';
import type { components, operations, paths } from './api-types.ts';
import { type Job, JobstackApiError, WaitForJobTimeoutError } from './errors.ts';
import { type JobEvent, readJobEvents } from './job-events.ts';
import {
  type RetryingFetchOptions,
  type RetryOptions,
  retryingFetch,
  sleep,
} from './retrying-fetch.ts';
import { definesSchedule } from './schedule-definition.ts';

export type CreateJobInput = components['schemas']['CreateJob'];
export type JobList = components['schemas']['JobList'];
export type JobStatus = Job['status'];
export type ListJobsQuery = NonNullable<operations['listJobs']['parameters']['query']>;
export type Schedule = components['schemas']['Schedule'];
export type ScheduleList = components['schemas']['ScheduleList'];
export type ListSchedulesQuery = NonNullable<operations['listSchedules']['parameters']['query']>;
export type JobAttempt = components['schemas']['JobAttempt'];
export type CreateScheduleInput = components['schemas']['CreateSchedule'];
export type UpdateScheduleInput = components['schemas']['UpdateSchedule'];
export type CreateJobBatchInput = components['schemas']['CreateJobBatch'];
export type JobBatchResults = components['schemas']['JobBatchResults'];
export type RetryJobsInput = components['schemas']['RetryJobs'];
export type RetryJobsResult = components['schemas']['RetryJobsResult'];
export type WebhookEndpoint = components['schemas']['WebhookEndpoint'];
/** A webhook endpoint with its signing secret: only creating it and rotating its secret show it. */
export type WebhookEndpointWithSecret = components['schemas']['WebhookEndpointWithSecret'];
export type WebhookEndpointList = components['schemas']['WebhookEndpointList'];
export type CreateWebhookEndpointInput = components['schemas']['CreateWebhookEndpoint'];
export type UpdateWebhookEndpointInput = components['schemas']['UpdateWebhookEndpoint'];
export type ListWebhookEndpointsQuery = NonNullable<
  operations['listWebhookEndpoints']['parameters']['query']
>;

/** The statuses a job does not leave. */
export const TERMINAL_JOB_STATUSES: ReadonlySet<JobStatus> = new Set<JobStatus>([
  'succeeded',
  'failed',
  'cancelled',
  'expired',
]);

/** The longest `Prefer: wait` the API honours; waitForJob asks for at most this per request. */
const MAX_WAIT_SECONDS = 20;

export interface JobstackClientOptions {
  /** Where the API is, e.g. `https://jobs.example.com` (without /v1). */
  baseUrl: string;
  /** One of the API's API_KEYS, sent as `Authorization: Bearer <apiKey>`. */
  apiKey: string;
  /** Retries of 503 answers and network errors; `{ maxAttempts: 1 }` turns them off. */
  retry?: RetryOptions;
  /**
   * How long one attempt may wait for its answer before it is abandoned (and retried like a
   * network error). Default 60 s; keep it above the 20 s a `Prefer: wait` request may be held.
   */
  timeoutMs?: number;
  /** The fetch to send requests with; globalThis.fetch by default. */
  fetch?: (request: Request) => Promise<Response>;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

export interface CreateJobOptions extends RequestOptions {
  /**
   * Makes the create safe to retry. One is generated per call when none is given, so the
   * client's own retries never create a second job; pass your own (an order id, say) to make a
   * create safe to repeat across calls or processes as well.
   */
  idempotencyKey?: string;
}

export interface WaitForJobOptions extends RequestOptions {
  /** How long to wait in all before rejecting with WaitForJobTimeoutError. Default 60 s. */
  timeoutMs?: number;
  /**
   * The least time between two requests, should the API answer before the job finished without
   * waiting (a server shutting down answers at once). Default 1 s.
   */
  pollIntervalMs?: number;
}

export interface JobstackClient {
  /** POST /v1/jobs: creates a job (or, for a repeated Idempotency-Key, answers the first one). */
  createJob(input: CreateJobInput, options?: CreateJobOptions): Promise<Job>;
  /** GET /v1/jobs/:id; with `waitSeconds`, the API answers once the job finished or that time passed. */
  getJob(id: string, options?: RequestOptions & { waitSeconds?: number }): Promise<Job>;
  /** GET /v1/jobs: one page, newest first. */
  listJobs(query?: ListJobsQuery, options?: RequestOptions): Promise<JobList>;
  /** Every job matching `query`, page after page, newest first. */
  iterateJobs(query?: Omit<ListJobsQuery, 'cursor'>, options?: RequestOptions): AsyncGenerator<Job>;
  /**
   * POST /v1/jobs/:id/cancel: cancels a queued job no worker holds (status `cancelled`), or asks
   * the worker holding it to stop (`cancelRequestedAt` set; it ends `cancelled`); a finished job
   * is a JobstackApiError `job-not-cancellable`. Retried like an idempotent request (README:
   * Retries and idempotency).
   */
  cancelJob(id: string, options?: RequestOptions): Promise<Job>;
  /**
   * GET /v1/jobs/:id/events: the job's status changes and progress as they happen (Server-Sent
   * Events), first its state as it is; the iteration ends after a finished status. After a broken
   * connection, call again with the last event's `eventId` as `lastEventId` to skip what was seen.
   */
  streamJobEvents(
    id: string,
    options?: RequestOptions & { lastEventId?: string },
  ): AsyncGenerator<JobEvent>;
  /** POST /v1/jobs/batch: up to 1,000 jobs; each item is answered on its own, in order. */
  createJobsBatch(input: CreateJobBatchInput, options?: RequestOptions): Promise<JobBatchResults>;
  /**
   * POST /v1/jobs/:id/retry: a new job that runs a failed, cancelled or expired one again
   * (`retryOf` names it); asking again answers the same retry, so it is retried like an
   * idempotent request.
   */
  retryJob(id: string, options?: RequestOptions): Promise<Job>;
  /** POST /v1/jobs/retry: one retry for each finished job the filter matches (`dryRun` counts them). */
  retryJobs(input: RetryJobsInput, options?: RequestOptions): Promise<RetryJobsResult>;
  /** GET /v1/jobs/:id/attempts: each attempt of the job (start, end, outcome, error), oldest first. */
  listJobAttempts(id: string, options?: RequestOptions): Promise<JobAttempt[]>;
  /**
   * GET /v1/schedules: one page; those declared in code (read-only here) first, then those
   * defined through the API, each by key.
   */
  listSchedules(query?: ListSchedulesQuery, options?: RequestOptions): Promise<ScheduleList>;
  /** Every schedule, page after page, in the list's order. */
  iterateSchedules(
    query?: Omit<ListSchedulesQuery, 'cursor'>,
    options?: RequestOptions,
  ): AsyncGenerator<Schedule>;
  /**
   * POST /v1/schedules: beat applies it within seconds. Retried like an idempotent request: a
   * repeat whose first attempt defined the schedule answers that schedule.
   */
  createSchedule(input: CreateScheduleInput, options?: RequestOptions): Promise<Schedule>;
  /** GET /v1/schedules/:key. */
  getSchedule(key: string, options?: RequestOptions): Promise<Schedule>;
  /** PATCH /v1/schedules/:key: changes the fields given. */
  updateSchedule(
    key: string,
    changes: UpdateScheduleInput,
    options?: RequestOptions,
  ): Promise<Schedule>;
  /** DELETE /v1/schedules/:key (its jobs stay). */
  deleteSchedule(key: string, options?: RequestOptions): Promise<void>;
  /**
   * POST /v1/schedules/:key/trigger: runs it once now, beside its regular runs. Never sent twice:
   * a repeat would run it again.
   */
  triggerSchedule(key: string, options?: RequestOptions): Promise<Job>;
  /** POST /v1/webhook-endpoints: the endpoint with its signing secret, which is shown only now. */
  createWebhookEndpoint(
    input: CreateWebhookEndpointInput,
    options?: RequestOptions,
  ): Promise<WebhookEndpointWithSecret>;
  /** GET /v1/webhook-endpoints: one page. */
  listWebhookEndpoints(
    query?: ListWebhookEndpointsQuery,
    options?: RequestOptions,
  ): Promise<WebhookEndpointList>;
  /** Every webhook endpoint, page after page, newest first. */
  iterateWebhookEndpoints(
    query?: Omit<ListWebhookEndpointsQuery, 'cursor'>,
    options?: RequestOptions,
  ): AsyncGenerator<WebhookEndpoint>;
  /** GET /v1/webhook-endpoints/:id. */
  getWebhookEndpoint(id: string, options?: RequestOptions): Promise<WebhookEndpoint>;
  /** PATCH /v1/webhook-endpoints/:id: changes the fields given. */
  updateWebhookEndpoint(
    id: string,
    changes: UpdateWebhookEndpointInput,
    options?: RequestOptions,
  ): Promise<WebhookEndpoint>;
  /** DELETE /v1/webhook-endpoints/:id. */
  deleteWebhookEndpoint(id: string, options?: RequestOptions): Promise<void>;
  /**
   * POST /v1/webhook-endpoints/:id/rotate-secret: a new secret (shown only now); the previous one
   * keeps signing too until `previousSecretExpiresAt`.
   */
  rotateWebhookEndpointSecret(
    id: string,
    options?: RequestOptions,
  ): Promise<WebhookEndpointWithSecret>;
  /** Resolves with the job once its status is terminal (succeeded, failed, cancelled or expired). */
  waitForJob(id: string, options?: WaitForJobOptions): Promise<Job>;
  /** The typed openapi-fetch client underneath, with auth and retries, for any operation. */
  readonly api: Client<paths>;
}

/** What openapi-fetch resolves with: the data, or the error and the response. */
interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The data of a successful answer; any other answer becomes a JobstackApiError. */
async function dataOf<T>(call: Promise<FetchResult<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw JobstackApiError.from(response, error);
  return data as T;
}

export function createJobstackClient(options: JobstackClientOptions): JobstackClient {
  const send = options.fetch ?? ((request: Request) => globalThis.fetch(request));
  const retry: RetryingFetchOptions = {
    ...options.retry,
    ...(options.timeoutMs === undefined ? {} : { attemptTimeoutMs: options.timeoutMs }),
  };
  const api = createClient<paths>({
    baseUrl: options.baseUrl,
    headers: { Authorization: `Bearer ${options.apiKey}` },
    fetch: retryingFetch(send, retry),
  });

  /**
   * The fetch of one call of a POST that is safe to repeat without an Idempotency-Key (cancel,
   * retry, create schedule; the README says why each is): retried as an idempotent request is.
   * It counts the attempts it sent, so the call can tell that an earlier one may have taken
   * effect with its answer lost, and read a repeat's refusal in that light.
   */
  function repeatablePost(): { fetch: (request: Request) => Promise<Response>; sent(): number } {
    let sent = 0;
    const counted = (request: Request) => {
      sent += 1;
      return send(request);
    };
    return { fetch: retryingFetch(counted, { ...retry, repeatable: true }), sent: () => sent };
  }

  async function getJob(
    id: string,
    { waitSeconds, signal }: RequestOptions & { waitSeconds?: number } = {},
  ): Promise<Job> {
    return dataOf(
      api.GET('/v1/jobs/{id}', {
        params: {
          path: { id },
          header: waitSeconds ? { prefer: `wait=${Math.ceil(waitSeconds)}` } : {},
        },
        signal,
      }),
    );
  }

  async function listJobs(query: ListJobsQuery = {}, { signal }: RequestOptions = {}) {
    return dataOf(api.GET('/v1/jobs', { params: { query }, signal }));
  }

  async function listWebhookEndpoints(
    query: ListWebhookEndpointsQuery = {},
    { signal }: RequestOptions = {},
  ) {
    return dataOf(api.GET('/v1/webhook-endpoints', { params: { query }, signal }));
  }

  async function getSchedule(key: string, { signal }: RequestOptions = {}): Promise<Schedule> {
    return dataOf(api.GET('/v1/schedules/{key}', { params: { path: { key } }, signal }));
  }

  async function listSchedules(query: ListSchedulesQuery = {}, { signal }: RequestOptions = {}) {
    return dataOf(api.GET('/v1/schedules', { params: { query }, signal }));
  }

  return {
    api,

    createJob(input, { idempotencyKey = crypto.randomUUID(), signal } = {}) {
      return dataOf(
        api.POST('/v1/jobs', {
          params: { header: { 'idempotency-key': idempotencyKey } },
          body: input,
          signal,
        }),
      );
    },

    getJob,
    listJobs,

    async *iterateJobs(query = {}, requestOptions = {}) {
      let cursor: string | undefined;
      do {
        const page = await listJobs({ ...query, ...(cursor ? { cursor } : {}) }, requestOptions);
        yield* page.jobs;
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    },

    async cancelJob(id, { signal } = {}) {
      const post = repeatablePost();
      try {
        return await dataOf(
          api.POST('/v1/jobs/{id}/cancel', { params: { path: { id } }, signal, fetch: post.fetch }),
        );
      } catch (error) {
        // an earlier attempt cancelled the job and its answer was lost: the repeat finds it cancelled
        if (
          post.sent() > 1 &&
          error instanceof JobstackApiError &&
          error.slug === 'job-not-cancellable' &&
          error.problem.jobStatus === 'cancelled'
        ) {
          return getJob(id, signal ? { signal } : {});
        }
        throw error;
      }
    },

    async *streamJobEvents(id, { signal, lastEventId } = {}) {
      const { response, error } = await api.GET('/v1/jobs/{id}/events', {
        params: {
          path: { id },
          header: lastEventId === undefined ? {} : { 'last-event-id': lastEventId },
        },
        parseAs: 'stream',
        signal,
      });
      if (!response.ok || response.body === null) throw JobstackApiError.from(response, error);
      yield* readJobEvents(response.body);
    },

    createJobsBatch(input, { signal } = {}) {
      return dataOf(api.POST('/v1/jobs/batch', { body: input, signal }));
    },

    retryJob(id, { signal } = {}) {
      // the API answers a repeat with the retry it made (its idempotency key is retry:<id>)
      return dataOf(
        api.POST('/v1/jobs/{id}/retry', {
          params: { path: { id } },
          signal,
          fetch: repeatablePost().fetch,
        }),
      );
    },

    retryJobs(input, { signal } = {}) {
      return dataOf(api.POST('/v1/jobs/retry', { body: input, signal }));
    },

    async listJobAttempts(id, { signal } = {}) {
      return (await dataOf(api.GET('/v1/jobs/{id}/attempts', { params: { path: { id } }, signal })))
        .attempts;
    },

    listSchedules,

    async *iterateSchedules(query = {}, requestOptions = {}) {
      let cursor: string | undefined;
      do {
        const page = await listSchedules(
          { ...query, ...(cursor ? { cursor } : {}) },
          requestOptions,
        );
        yield* page.schedules;
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    },

    async createSchedule(input, { signal } = {}) {
      const post = repeatablePost();
      try {
        return await dataOf(api.POST('/v1/schedules', { body: input, signal, fetch: post.fetch }));
      } catch (error) {
        // the key is unique, so a repeat cannot define a second schedule; if an earlier attempt
        // defined it and its answer was lost, the repeat is refused, and the schedule found under
        // the key is this call's when it is exactly what the call asked for
        if (
          post.sent() > 1 &&
          error instanceof JobstackApiError &&
          error.slug === 'schedule-exists'
        ) {
          const existing = await getSchedule(input.key, signal ? { signal } : {});
          if (definesSchedule(existing, input)) return existing;
        }
        throw error;
      }
    },

    getSchedule,

    updateSchedule(key, changes, { signal } = {}) {
      return dataOf(
        api.PATCH('/v1/schedules/{key}', { params: { path: { key } }, body: changes, signal }),
      );
    },

    async deleteSchedule(key, { signal } = {}) {
      await dataOf(api.DELETE('/v1/schedules/{key}', { params: { path: { key } }, signal }));
    },

    triggerSchedule(key, { signal } = {}) {
      return dataOf(api.POST('/v1/schedules/{key}/trigger', { params: { path: { key } }, signal }));
    },

    createWebhookEndpoint(input, { signal } = {}) {
      return dataOf(api.POST('/v1/webhook-endpoints', { body: input, signal }));
    },

    listWebhookEndpoints,

    async *iterateWebhookEndpoints(query = {}, requestOptions = {}) {
      let cursor: string | undefined;
      do {
        const page = await listWebhookEndpoints(
          { ...query, ...(cursor ? { cursor } : {}) },
          requestOptions,
        );
        yield* page.webhookEndpoints;
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    },

    getWebhookEndpoint(id, { signal } = {}) {
      return dataOf(api.GET('/v1/webhook-endpoints/{id}', { params: { path: { id } }, signal }));
    },

    updateWebhookEndpoint(id, changes, { signal } = {}) {
      return dataOf(
        api.PATCH('/v1/webhook-endpoints/{id}', {
          params: { path: { id } },
          body: changes,
          signal,
        }),
      );
    },

    async deleteWebhookEndpoint(id, { signal } = {}) {
      await dataOf(api.DELETE('/v1/webhook-endpoints/{id}', { params: { path: { id } }, signal }));
    },

    rotateWebhookEndpointSecret(id, { signal } = {}) {
      return dataOf(
        api.POST('/v1/webhook-endpoints/{id}/rotate-secret', { params: { path: { id } }, signal }),
      );
    },

    async waitForJob(id, { timeoutMs = 60_000, pollIntervalMs = 1_000, signal } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const started = Date.now();
        const remainingSeconds = Math.floor((deadline - started) / 1_000);
        const job = await getJob(id, {
          waitSeconds: Math.min(MAX_WAIT_SECONDS, remainingSeconds),
          ...(signal ? { signal } : {}),
        });
        if (TERMINAL_JOB_STATUSES.has(job.status)) return job;
        if (Date.now() >= deadline) throw new WaitForJobTimeoutError(job, timeoutMs);
        const pause = Math.min(pollIntervalMs - (Date.now() - started), deadline - Date.now());
        if (pause > 0) await sleep(pause, signal);
      }
    },
  };
}

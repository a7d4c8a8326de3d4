// @repo/client: a typed client for the jobstack HTTP API. This file is the package's whole public
// API (package.json "exports").
export type { components, operations, paths } from './api-types.ts';
export {
  type CreateJobBatchInput,
  type CreateJobInput,
  type CreateJobOptions,
  type CreateScheduleInput,
  type CreateWebhookEndpointInput,
  createJobstackClient,
  type JobAttempt,
  type JobBatchResults,
  type JobList,
  type JobStatus,
  type JobstackClient,
  type JobstackClientOptions,
  type ListJobsQuery,
  type ListSchedulesQuery,
  type ListWebhookEndpointsQuery,
  type RequestOptions,
  type RetryJobsInput,
  type RetryJobsResult,
  type Schedule,
  type ScheduleList,
  TERMINAL_JOB_STATUSES,
  type UpdateScheduleInput,
  type UpdateWebhookEndpointInput,
  type WaitForJobOptions,
  type WebhookEndpoint,
  type WebhookEndpointList,
  type WebhookEndpointWithSecret,
} from './client.ts';
export {
  type Job,
  JobstackApiError,
  JobstackConnectionError,
  PROBLEM_TYPE_BASE,
  type Problem,
  WaitForJobTimeoutError,
} from './errors.ts';
export type { JobEvent, JobProgress } from './job-events.ts';
export type { RetryOptions } from './retrying-fetch.ts';

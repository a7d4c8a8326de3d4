import { JOB_STATUSES } from '@repo/db';
import {
  concurrencyKeySchema,
  ENQUEUEABLE_JOB_TYPES,
  JOB_TYPE_NAMES,
  type JobType,
  jobPrioritySchema,
  jobTypes,
} from '@repo/jobs';
import { z } from 'zod';
import {
  DEFAULT_BULK_RETRY,
  instantQuerySchema,
  MAX_BULK_RETRY,
  MAX_TAGS,
  metadataSchema,
  RETRYABLE_STATUSES,
  tagQuerySchema,
  tagsSchema,
  ttlSchema,
} from '../job-fields.ts';
import { jobResourceSchema } from '../job-resource.ts';
import {
  AUTHENTICATED_PROBLEMS,
  defineOperation,
  JSON_BODY_PROBLEMS,
  keysetPageFields,
  keysetPageQueryFields,
  problemSchema,
} from '../openapi/operation.ts';

/** Attempts a client may ask for; the job type's default applies when it asks for none. */
export const MAX_ATTEMPTS_LIMIT = 25;
/** How far ahead `runAt` may lie: further out is almost certainly a unit mistake. */
export const MAX_RUN_AT_AHEAD_MS = 365 * 24 * 3_600_000;
/** Longest `Prefer: wait` honoured on GET /v1/jobs/:id (also kept below the request timeout). */
export const MAX_WAIT_SECONDS = 20;

export const createJobBody = z.strictObject({
  type: z
    .string()
    .min(1)
    .max(100)
    .meta({ description: 'A job type clients may enqueue (docs/job-types.md).' }),
  payload: z
    .unknown()
    .refine((value) => value !== undefined, 'payload is required')
    .meta({ description: "The job's input, validated against its type's schema." }),
  runAt: z.iso
    .datetime({ offset: true, error: 'expected an ISO-8601 date-time with a time zone' })
    .refine((value) => Date.parse(value) - Date.now() <= MAX_RUN_AT_AHEAD_MS, {
      message: 'runAt may lie at most 365 days ahead',
    })
    .nullish()
    .meta({ description: 'Run no earlier than this (at most 365 days ahead); now by default.' }),
  maxAttempts: z.int().min(1).max(MAX_ATTEMPTS_LIMIT).nullish().meta({
    description: "Attempts before the job fails for good; the type's default otherwise.",
  }),
  concurrencyKey: concurrencyKeySchema.nullish().meta({
    description: "The key the type's concurrency and rate limits count per, e.g. a tenant.",
  }),
  tags: tagsSchema.nullish().meta({
    description: `Up to ${MAX_TAGS} distinct labels to find the job by (GET /v1/jobs?tag=…).`,
  }),
  metadata: metadataSchema.nullish().meta({
    description: "The client's own data about the job: a JSON object of at most 4,096 bytes.",
  }),
  priority: jobPrioritySchema.nullish().meta({
    description: 'Among waiting jobs, 1 runs first and 10 last; 5 by default.',
  }),
  ttl: ttlSchema.nullish().meta({
    description:
      'Seconds the job may wait to start once due (runAt, else creation); past that it ends expired and never runs.',
  }),
});

/** `webhook.deliver` → `CreateWebhookDeliverJob`: the name of a type's request in the document. */
function createJobSchemaId(type: JobType): string {
  const words = type.split(/[.-]/).map((word) => word.charAt(0).toUpperCase() + word.slice(1));
  return `Create${words.join('')}Job`;
}

/**
 * The body of POST /v1/jobs as the document describes it: one shape per job type clients may
 * enqueue, with that type's payload schema. The router validates the same pieces in two steps
 * (createJobBody, then the payload against its type's schema), so an unknown type is answered
 * `unknown-job-type` rather than with every member's mismatch.
 */
const [firstTypeBody, ...otherTypeBodies] = ENQUEUEABLE_JOB_TYPES.map((type) =>
  createJobBody
    .extend({
      type: z.literal(type).meta({ description: jobTypes[type].description }),
      payload: jobTypes[type].payload,
    })
    .meta({ id: createJobSchemaId(type) }),
);
if (firstTypeBody === undefined) throw new Error('no job type may be enqueued through the API');

export const createJobBodyByType = z
  .discriminatedUnion('type', [firstTypeBody, ...otherTypeBodies])
  .meta({ id: 'CreateJob' });

// Printable ASCII without spaces: what clients generate (UUIDs, hashes) and safe to store and log.
export const idempotencyKeySchema = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/, 'expected 1-255 printable ASCII characters without spaces');

export const idempotencyHeaders = z.object({
  'idempotency-key': idempotencyKeySchema.optional().meta({
    description:
      'Makes the request safe to retry: the same key with the same request answers the first job (200).',
  }),
});

export const jobIdParams = z.object({
  id: z.uuid({ error: 'expected a job id (a UUID)' }).meta({ description: 'The job id.' }),
});

export const listJobsQuery = z.strictObject({
  status: z.enum(JOB_STATUSES).optional(),
  type: z.enum(JOB_TYPE_NAMES).optional(),
  concurrencyKey: concurrencyKeySchema.optional(),
  tag: tagQuerySchema.meta({
    description: 'Repeatable: only jobs carrying every tag given.',
  }),
  createdAfter: instantQuerySchema.meta({
    description: 'Only jobs created at or after this ISO-8601 date-time.',
  }),
  createdBefore: instantQuerySchema.meta({
    description: 'Only jobs created before this ISO-8601 date-time.',
  }),
  ...keysetPageQueryFields(
    'Jobs',
    "The previous page's `nextCursor`; keep the other parameters the same.",
  ),
});

/** Not validated: a malformed preference is ignored, as RFC 7240 asks. */
const preferWaitHeaders = z.object({
  prefer: z
    .string()
    .optional()
    .meta({
      description: `\`wait=<seconds>\` (RFC 7240): hold the answer until the job has finished or the time is up (at most ${MAX_WAIT_SECONDS} s).`,
      example: 'wait=10',
    }),
});

export const jobListSchema = z
  .strictObject({
    jobs: z.array(jobResourceSchema),
    ...keysetPageFields,
  })
  .meta({ id: 'JobList' });

export type JobList = z.input<typeof jobListSchema>;

const jobContent = { 'application/json': { schema: jobResourceSchema } };
const jobLocation = z.object({
  Location: z.string().meta({ description: 'The path of the job: /v1/jobs/{id}.' }),
});

export const createJob = defineOperation({
  method: 'post',
  path: '/v1/jobs',
  operationId: 'createJob',
  summary: 'Create a job',
  description:
    'Records the job in PostgreSQL, then queues it. Every 503 carries `jobMayExist`: with `true`, retry with the same Idempotency-Key.',
  tag: 'Jobs',
  security: 'apiKey',
  request: { headers: idempotencyHeaders, body: createJobBodyByType },
  responses: {
    202: { description: 'The job was created.', headers: jobLocation, content: jobContent },
    200: {
      description: 'The Idempotency-Key repeated an earlier request: its job, as it is now.',
      headers: jobLocation,
      content: jobContent,
    },
  },
  problems: [
    ...AUTHENTICATED_PROBLEMS,
    ...JSON_BODY_PROBLEMS,
    'unknown-job-type',
    'idempotency-key-reused',
    'database-unavailable',
    'queue-unavailable',
    'server-busy',
  ],
});

export const listJobs = defineOperation({
  method: 'get',
  path: '/v1/jobs',
  operationId: 'listJobs',
  summary: 'List jobs, newest first',
  tag: 'Jobs',
  security: 'apiKey',
  request: { query: listJobsQuery },
  responses: {
    200: {
      description: 'A page of jobs.',
      content: { 'application/json': { schema: jobListSchema } },
    },
  },
  problems: [
    ...AUTHENTICATED_PROBLEMS,
    'validation-failed',
    'invalid-cursor',
    'database-unavailable',
  ],
});

export const getJob = defineOperation({
  method: 'get',
  path: '/v1/jobs/:id',
  operationId: 'getJob',
  summary: 'Get a job',
  description:
    'With `Prefer: wait=<seconds>`, answers once the job has finished or the time is up.',
  tag: 'Jobs',
  security: 'apiKey',
  request: { params: jobIdParams, headers: preferWaitHeaders },
  responses: {
    200: {
      description: 'The job.',
      headers: z.object({
        'Preference-Applied': z
          .string()
          .optional()
          .meta({ description: 'The wait applied, when `Prefer: wait` was honoured.' }),
      }),
      content: jobContent,
    },
  },
  problems: [
    ...AUTHENTICATED_PROBLEMS,
    'validation-failed',
    'job-not-found',
    'database-unavailable',
    'queue-unavailable',
  ],
});

export const cancelJob = defineOperation({
  method: 'post',
  path: '/v1/jobs/:id/cancel',
  operationId: 'cancelJob',
  summary: 'Cancel a queued or running job',
  description:
    'A queued job no worker holds is taken off the queue and cancelled at once (200): it never runs. A job a worker holds is stopped wherever it runs (202): `cancelRequestedAt` is set, its handler is aborted, and it ends `cancelled` without a retry. Such a job may still show `queued`: workers write `running` only once a handler has run for a moment (JOB_RUNNING_STATUS_DELAY).',
  tag: 'Jobs',
  security: 'apiKey',
  request: { params: jobIdParams },
  responses: {
    200: { description: 'The cancelled job.', content: jobContent },
    202: {
      description:
        'A worker has the job (running, or queued while its handler runs before `running` is written): it is being stopped, and ends `cancelled`.',
      headers: jobLocation,
      content: jobContent,
    },
  },
  problems: [
    ...AUTHENTICATED_PROBLEMS,
    'validation-failed',
    'job-not-found',
    'job-not-cancellable',
    'database-unavailable',
  ],
});

/** The most jobs one POST /v1/jobs/batch creates. */
export const MAX_BATCH_JOBS = 1_000;

// each item is validated on its own (batchItem), so the list itself is only checked to be one
export const batchBody = z
  .strictObject({
    jobs: z
      .array(z.unknown())
      .min(1)
      .max(MAX_BATCH_JOBS)
      .meta({
        description: `1-${MAX_BATCH_JOBS} POST /v1/jobs bodies, each with an optional idempotencyKey.`,
      }),
  })
  .meta({ id: 'CreateJobBatch' });

export const batchItem = createJobBody.extend({
  idempotencyKey: idempotencyKeySchema.optional().meta({
    description: 'What the Idempotency-Key header is for a single job.',
  }),
});

const batchResultsSchema = z
  .strictObject({
    results: z.array(
      z.strictObject({
        status: z.int().meta({
          description: '202 created, 200 an idempotencyKey repeated, else the problem status.',
        }),
        job: jobResourceSchema.optional(),
        error: problemSchema.optional(),
      }),
    ),
  })
  .meta({ id: 'JobBatchResults' });

export const createJobsBatch = defineOperation({
  method: 'post',
  path: '/v1/jobs/batch',
  operationId: 'createJobsBatch',
  summary: 'Create up to 1,000 jobs',
  description:
    'Each item is answered on its own, in request order; the valid ones are written in one INSERT and queued in one addBulk.',
  tag: 'Jobs',
  security: 'apiKey',
  request: { body: batchBody },
  responses: {
    200: {
      description: 'One result per item.',
      content: { 'application/json': { schema: batchResultsSchema } },
    },
  },
  problems: [...AUTHENTICATED_PROBLEMS, ...JSON_BODY_PROBLEMS, 'database-unavailable'],
});

export const bulkRetryBody = z
  .strictObject({
    status: z.enum(RETRYABLE_STATUSES),
    type: z.enum(JOB_TYPE_NAMES).optional(),
    tag: tagQuerySchema,
    createdAfter: instantQuerySchema,
    createdBefore: instantQuerySchema,
    limit: z.int().min(1).max(MAX_BULK_RETRY).default(DEFAULT_BULK_RETRY),
    dryRun: z.boolean().default(false),
  })
  .meta({ id: 'RetryJobs' });

export const retryJobs = defineOperation({
  method: 'post',
  path: '/v1/jobs/retry',
  operationId: 'retryJobs',
  summary: 'Retry the finished jobs a filter matches',
  description: 'One retry per job: running it again answers with the same retries.',
  tag: 'Jobs',
  security: 'apiKey',
  request: { body: bulkRetryBody },
  responses: {
    200: {
      description: 'How many jobs matched, and the ids of their retries.',
      content: {
        'application/json': {
          schema: z
            .strictObject({ matched: z.int().min(0), jobs: z.array(z.uuid()) })
            .meta({ id: 'RetryJobsResult' }),
        },
      },
    },
  },
  problems: [
    ...AUTHENTICATED_PROBLEMS,
    ...JSON_BODY_PROBLEMS,
    'database-unavailable',
    'queue-unavailable',
    'server-busy',
  ],
});

export const retryJob = defineOperation({
  method: 'post',
  path: '/v1/jobs/:id/retry',
  operationId: 'retryJob',
  summary: 'Retry a failed, cancelled or expired job',
  description:
    'A new job with retryOf; the job has one retry, so asking again answers with it (200).',
  tag: 'Jobs',
  security: 'apiKey',
  request: { params: jobIdParams },
  responses: {
    202: { description: 'The retry was created.', headers: jobLocation, content: jobContent },
    200: {
      description: 'The retry the job already has.',
      headers: jobLocation,
      content: jobContent,
    },
  },
  problems: [
    ...AUTHENTICATED_PROBLEMS,
    'validation-failed',
    'job-not-found',
    'job-not-retryable',
    'database-unavailable',
    'queue-unavailable',
    'server-busy',
  ],
});

export const streamJobEvents = defineOperation({
  method: 'get',
  path: '/v1/jobs/:id/events',
  operationId: 'streamJobEvents',
  summary: "Stream a job's status changes and progress (Server-Sent Events)",
  description:
    'Events `status` (data: the job, first its state at connect, then on every status change) and `progress` (data: `{ id, progress }`), a `: heartbeat` comment every 15 s; the stream ends after a finished status. Event ids are row write times in ms: reconnect with `Last-Event-ID` to skip progress already seen.',
  tag: 'Jobs',
  security: 'apiKey',
  request: {
    params: jobIdParams,
    headers: z.object({
      'last-event-id': z
        .string()
        .optional()
        .meta({ description: 'The id of the last event seen, when reconnecting.' }),
    }),
  },
  responses: {
    200: {
      description: 'The event stream.',
      content: {
        'text/event-stream': {
          schema: z.string().meta({ description: 'Server-Sent Events.' }),
        },
      },
    },
  },
  problems: [
    ...AUTHENTICATED_PROBLEMS,
    'validation-failed',
    'job-not-found',
    'database-unavailable',
  ],
});

export const jobsOperations = [
  createJob,
  createJobsBatch,
  retryJobs,
  listJobs,
  getJob,
  cancelJob,
  retryJob,
  streamJobEvents,
];

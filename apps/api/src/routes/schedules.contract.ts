import { z } from 'zod';
import { jobResourceSchema } from '../job-resource.ts';
import {
  AUTHENTICATED_PROBLEMS,
  defineOperation,
  JSON_BODY_PROBLEMS,
  jsonValueSchema,
  keysetPageFields,
  keysetPageQueryFields,
} from '../openapi/operation.ts';
import { scheduleResourceSchema } from '../schedule-resource.ts';

/** Longest interval accepted: a year. Longer is almost certainly a unit mistake. */
export const MAX_EVERY_SECONDS = 366 * 24 * 3_600;
const MAX_DESCRIPTION_LENGTH = 500;

/**
 * Letters, digits and . _ : - : safe in a URL path, a Redis key and a log line, and what code
 * declarations use ("maintenance.prune"). ASCII only, so byte order and JavaScript's `<` agree
 * (the list's order).
 */
export const SCHEDULE_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;

const scheduleKey = z
  .string()
  .regex(
    SCHEDULE_KEY_PATTERN,
    'expected 1-100 characters: letters, digits and . _ : - (starting with a letter or digit)',
  )
  .meta({ description: "The schedule's key: its name in the API and its job scheduler's id." });
const type = z
  .string()
  .min(1)
  .max(100)
  .meta({ description: 'The job type each run is: one clients may enqueue (docs/job-types.md).' });
const payload = jsonValueSchema
  .refine((value) => value !== undefined, 'payload is required')
  .meta({ description: "Each run's input, validated against its type's schema." });
const cron = z.string().min(1).max(200).meta({
  description:
    'A cron expression (5 fields, or 6 with seconds first), read in `timezone`. Give either this or everySeconds.',
  example: '30 2 * * *',
});
const timezone = z.string().min(1).max(100).meta({
  description: 'The IANA time zone `cron` is read in; UTC by default. Cron schedules only.',
  example: 'Europe/Berlin',
});
const everySeconds = z
  .int()
  .min(1)
  .max(MAX_EVERY_SECONDS)
  .meta({ description: 'Run every this many seconds instead of on a cron expression.' });
const paused = z.boolean().meta({ description: 'A paused schedule does not run until resumed.' });
const description = z.string().max(MAX_DESCRIPTION_LENGTH).nullable();

/** Exactly one of cron and everySeconds; timezone only with cron. */
function checkTimingFields(
  body: { cron?: string | undefined; everySeconds?: number | undefined; timezone?: unknown },
  context: z.RefinementCtx,
): void {
  if ((body.cron === undefined) === (body.everySeconds === undefined)) {
    context.addIssue({
      code: 'custom',
      path: ['cron'],
      message:
        body.cron === undefined
          ? 'give either cron (with an optional timezone) or everySeconds'
          : 'give either cron or everySeconds, not both',
    });
  }
  if (body.timezone !== undefined && body.cron === undefined) {
    context.addIssue({
      code: 'custom',
      path: ['timezone'],
      message: 'timezone applies to cron schedules only',
    });
  }
}

export const createScheduleBody = z
  .strictObject({
    key: scheduleKey,
    type,
    payload,
    cron: cron.optional(),
    timezone: timezone.optional(),
    everySeconds: everySeconds.optional(),
    paused: paused.optional(),
    description: description.optional(),
  })
  .superRefine((body, context) => checkTimingFields(body, context))
  .meta({ id: 'CreateSchedule' });

export const updateScheduleBody = z
  .strictObject({
    type: type.optional(),
    payload: payload.optional(),
    cron: cron.optional(),
    timezone: timezone.optional(),
    everySeconds: everySeconds.optional(),
    paused: paused.optional(),
    description: description.optional(),
  })
  .superRefine((body, context) => {
    if (body.cron !== undefined && body.everySeconds !== undefined) {
      context.addIssue({
        code: 'custom',
        path: ['everySeconds'],
        message: 'give either cron or everySeconds, not both',
      });
    }
    if (body.timezone !== undefined && body.everySeconds !== undefined) {
      context.addIssue({
        code: 'custom',
        path: ['timezone'],
        message: 'timezone applies to cron schedules only',
      });
    }
  })
  .meta({
    id: 'UpdateSchedule',
    description:
      'The fields to change; the others stay. Giving cron turns an interval schedule into a cron one (UTC unless timezone is given) and everySeconds the other way round.',
  });

export const scheduleKeyParams = z.object({ key: scheduleKey });

export const listSchedulesQuery = z.strictObject({
  ...keysetPageQueryFields('Schedules'),
});

export const scheduleListSchema = z
  .strictObject({ schedules: z.array(scheduleResourceSchema), ...keysetPageFields })
  .meta({ id: 'ScheduleList' });

export type ScheduleList = z.input<typeof scheduleListSchema>;

const scheduleContent = { 'application/json': { schema: scheduleResourceSchema } };
const READ_ONLY =
  'Schedules declared in code (`"source": "code"`) are read-only here: 409 `schedule-read-only`.';

export const listSchedules = defineOperation({
  method: 'get',
  path: '/v1/schedules',
  operationId: 'listSchedules',
  summary: 'List the schedules, declared in code and defined through the API',
  description:
    'Those declared in code come first, then those defined through the API; each part is ordered by key, in byte order (upper case before lower case). Pages are keyset pages, as the other lists are: a schedule created or deleted while paging does not shift the others, and one whose key sorts before the current position is not seen until the list is read again.',
  tag: 'Schedules',
  security: 'apiKey',
  request: { query: listSchedulesQuery },
  responses: {
    200: {
      description: 'A page of schedules.',
      content: { 'application/json': { schema: scheduleListSchema } },
    },
  },
  problems: [
    ...AUTHENTICATED_PROBLEMS,
    'validation-failed',
    'invalid-cursor',
    'database-unavailable',
  ],
});

export const createSchedule = defineOperation({
  method: 'post',
  path: '/v1/schedules',
  operationId: 'createSchedule',
  summary: 'Define a schedule',
  description:
    'Records the schedule in PostgreSQL; beat applies it to Redis at once (within a couple of seconds).',
  tag: 'Schedules',
  security: 'apiKey',
  request: { body: createScheduleBody },
  responses: {
    201: {
      description: 'The schedule was defined.',
      headers: z.object({
        Location: z.string().meta({ description: 'The path of the schedule.' }),
      }),
      content: scheduleContent,
    },
  },
  problems: [
    ...AUTHENTICATED_PROBLEMS,
    ...JSON_BODY_PROBLEMS,
    'unknown-job-type',
    'schedule-exists',
    'database-unavailable',
  ],
});

export const getSchedule = defineOperation({
  method: 'get',
  path: '/v1/schedules/:key',
  operationId: 'getSchedule',
  summary: 'Get a schedule',
  tag: 'Schedules',
  security: 'apiKey',
  request: { params: scheduleKeyParams },
  responses: { 200: { description: 'The schedule.', content: scheduleContent } },
  problems: [
    ...AUTHENTICATED_PROBLEMS,
    'validation-failed',
    'schedule-not-found',
    'database-unavailable',
  ],
});

export const updateSchedule = defineOperation({
  method: 'patch',
  path: '/v1/schedules/:key',
  operationId: 'updateSchedule',
  summary: 'Change a schedule',
  description: READ_ONLY,
  tag: 'Schedules',
  security: 'apiKey',
  request: { params: scheduleKeyParams, body: updateScheduleBody },
  responses: { 200: { description: 'The schedule as changed.', content: scheduleContent } },
  problems: [
    ...AUTHENTICATED_PROBLEMS,
    ...JSON_BODY_PROBLEMS,
    'unknown-job-type',
    'schedule-not-found',
    'schedule-read-only',
    'database-unavailable',
  ],
});

export const deleteSchedule = defineOperation({
  method: 'delete',
  path: '/v1/schedules/:key',
  operationId: 'deleteSchedule',
  summary: 'Delete a schedule',
  description: `Its jobs stay. ${READ_ONLY}`,
  tag: 'Schedules',
  security: 'apiKey',
  request: { params: scheduleKeyParams },
  responses: { 204: { description: 'The schedule was deleted.' } },
  problems: [
    ...AUTHENTICATED_PROBLEMS,
    'validation-failed',
    'schedule-not-found',
    'schedule-read-only',
    'database-unavailable',
  ],
});

export const triggerSchedule = defineOperation({
  method: 'post',
  path: '/v1/schedules/:key/trigger',
  operationId: 'triggerSchedule',
  summary: 'Run a schedule once now',
  description: `Creates a job as the schedule would (its schedulerId is the key), beside its regular runs. ${READ_ONLY}`,
  tag: 'Schedules',
  security: 'apiKey',
  request: { params: scheduleKeyParams },
  responses: {
    202: {
      description: 'The job was created.',
      headers: z.object({
        Location: z.string().meta({ description: 'The path of the job: /v1/jobs/{id}.' }),
      }),
      content: { 'application/json': { schema: jobResourceSchema } },
    },
  },
  problems: [
    ...AUTHENTICATED_PROBLEMS,
    'validation-failed',
    'unknown-job-type',
    'schedule-not-found',
    'schedule-read-only',
    'database-unavailable',
    'queue-unavailable',
  ],
});

export const schedulesOperations = [
  listSchedules,
  createSchedule,
  getSchedule,
  updateSchedule,
  deleteSchedule,
  triggerSchedule,
];

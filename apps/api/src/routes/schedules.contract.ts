import { z } from 'zod';
import { AUTHENTICATED_PROBLEMS, defineOperation } from '../openapi/operation.ts';

const scheduleSchema = z
  .strictObject({
    id: z.string().meta({ description: "The schedule's key." }),
    type: z.string().meta({ description: 'The job type each run is.' }),
    pattern: z.string().nullable().meta({ description: 'The cron pattern; null for an interval.' }),
    every: z.int().nullable().meta({ description: 'The interval in milliseconds; null for cron.' }),
    tz: z.string().nullable().meta({ description: "The cron pattern's IANA time zone." }),
    nextRunAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'Schedule' });

export const scheduleListSchema = z.strictObject({ schedules: z.array(scheduleSchema) });

export type ScheduleList = z.input<typeof scheduleListSchema>;

export const listSchedules = defineOperation({
  method: 'get',
  path: '/v1/schedules',
  operationId: 'listSchedules',
  summary: 'List the recurring schedules, with their next run',
  tag: 'Schedules',
  security: 'apiKey',
  responses: {
    200: {
      description: 'Every schedule beat registered.',
      content: { 'application/json': { schema: scheduleListSchema } },
    },
  },
  problems: [...AUTHENTICATED_PROBLEMS, 'queue-unavailable'],
});

export const schedulesOperations = [listSchedules];

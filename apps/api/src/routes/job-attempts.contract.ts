import { ATTEMPT_OUTCOMES } from '@repo/db';
import { z } from 'zod';
import { AUTHENTICATED_PROBLEMS, defineOperation } from '../openapi/operation.ts';
import { jobIdParams } from './jobs.contract.ts';

export const jobAttemptListSchema = z
  .strictObject({
    jobId: z.uuid(),
    attempts: z.array(
      z
        .strictObject({
          attempt: z.int().meta({ description: "The job's attempt number, 1 for the first." }),
          startedAt: z.iso.datetime(),
          finishedAt: z.iso.datetime(),
          durationMs: z.int(),
          outcome: z.enum(ATTEMPT_OUTCOMES).meta({
            description:
              'succeeded; failed (for good); retrying (failed, tried again); interrupted (by a worker shutdown, run again without using an attempt).',
          }),
          error: z.string().nullable(),
          workerId: z
            .string()
            .nullable()
            .meta({ description: 'The worker (host name) that ran it.' }),
          httpStatus: z.int().nullable().meta({
            description: "webhook.deliver: the receiver's HTTP status, when it answered.",
          }),
        })
        .meta({ id: 'JobAttempt' }),
    ),
    links: z.strictObject({ self: z.string(), job: z.string() }),
  })
  .meta({ id: 'JobAttemptList' });

export type JobAttemptList = z.input<typeof jobAttemptListSchema>;

export const listJobAttempts = defineOperation({
  method: 'get',
  path: '/v1/jobs/:id/attempts',
  operationId: 'listJobAttempts',
  summary: "List a job's attempts",
  description:
    'Each attempt that has ended, in order. One still running is not listed yet: the job shows when it started (`attemptStartedAt`) and where (`workerId`).',
  tag: 'Jobs',
  security: 'apiKey',
  request: { params: jobIdParams },
  responses: {
    200: {
      description: "The job's attempts.",
      content: { 'application/json': { schema: jobAttemptListSchema } },
    },
  },
  problems: [
    ...AUTHENTICATED_PROBLEMS,
    'validation-failed',
    'job-not-found',
    'database-unavailable',
  ],
});

export const jobAttemptsOperations = [listJobAttempts];

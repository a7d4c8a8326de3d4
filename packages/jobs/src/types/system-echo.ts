import { z } from 'zod';
import { defineJobType } from '../define-job-type.ts';

const payload = z.strictObject({
  data: z.json().optional(),
  delayMs: z.int().min(0).max(60_000).optional(),
  /** Fail this many attempts before succeeding: exercises retries end to end. */
  failAttempts: z.int().min(0).max(25).optional(),
});

export const systemEcho = defineJobType({
  type: 'system.echo',
  description:
    'Returns its payload after an optional delay (at most 60 s), reporting its progress along the delay; cancelling it stops the delay. Used by smoke tests, benchmarks and shutdown tests.',
  payload,
  result: payload,
  enqueueable: true,
  options: {
    attempts: 3,
    backoffMs: 1_000,
    keepCompletedSeconds: 3_600,
    keepFailedSeconds: 86_400,
  },
});

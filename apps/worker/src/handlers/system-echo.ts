import { setTimeout as sleep } from 'node:timers/promises';
import type { JobHandler } from './job-handler.ts';

/** The delay is waited in steps of at least this long, each reported as progress. */
const PROGRESS_STEP_MIN_MS = 100;
const PROGRESS_STEPS_MAX = 10;

export const systemEcho: JobHandler<'system.echo'> = async (
  payload,
  { attempt, signal, progress },
) => {
  if (payload.delayMs) {
    // in steps, so a long delay shows as progress (and live events); cancelling stops the wait
    const steps = Math.max(
      1,
      Math.min(PROGRESS_STEPS_MAX, Math.floor(payload.delayMs / PROGRESS_STEP_MIN_MS)),
    );
    for (let step = 1; step <= steps; step += 1) {
      await sleep(payload.delayMs / steps, undefined, { signal });
      progress(
        (step * 100) / steps,
        `waited ${Math.round((payload.delayMs * step) / steps)} of ${payload.delayMs} ms`,
      );
    }
  }
  if (payload.failAttempts && attempt <= payload.failAttempts) {
    throw new Error(`failing attempt ${attempt} of ${payload.failAttempts} as the payload asks`);
  }
  return payload;
};

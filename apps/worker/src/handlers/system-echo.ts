import { setTimeout as sleep } from 'node:timers/promises';
import type { JobHandler } from './job-handler.ts';

export const systemEcho: JobHandler<'system.echo'> = async (payload, { attempt, signal }) => {
  if (payload.delayMs) await sleep(payload.delayMs, undefined, { signal });
  if (payload.failAttempts && attempt <= payload.failAttempts) {
    throw new Error(`failing attempt ${attempt} of ${payload.failAttempts} as the payload asks`);
  }
  return payload;
};

import { parseJobPayload } from './payloads.ts';
import { type JobQueue, jobOptions } from './queue.ts';
import type { JobPayload, JobType } from './registry.ts';

export interface EnqueueJobInput<T extends JobType> {
  /** The Postgres row id; it becomes the BullMQ job id, so enqueueing twice adds one job. */
  id: string;
  type: T;
  payload: JobPayload<T>;
  runAt?: Date | null;
  maxAttempts?: number | null;
}

/** Validates the payload against the contract and adds the job; invalid payloads never reach Redis. */
export async function enqueueJob<T extends JobType>(
  queue: JobQueue,
  input: EnqueueJobInput<T>,
): Promise<void> {
  const payload = parseJobPayload(input.type, input.payload);
  await queue.add(
    input.type,
    payload,
    jobOptions(input.type, { jobId: input.id, maxAttempts: input.maxAttempts, runAt: input.runAt }),
  );
}

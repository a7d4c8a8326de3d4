import { z } from 'zod';

// Redis pub/sub channels, named under the queue prefix so that stacks sharing one Redis (a
// deployment per prefix, a test per prefix) never hear each other. Pub/sub delivers to whoever
// listens at that moment and keeps nothing: what a message says is always also on the job's row,
// and every listener reads the row where a lost message would matter.

/** The api publishes a job id here when a running job's cancellation is requested. */
export function jobCancelChannel(prefix: string): string {
  return `${prefix}:jobstack:job-cancel`;
}

/** The workers publish here whenever a job's status or progress changes (JobEventMessage). */
export function jobEventsChannel(prefix: string): string {
  return `${prefix}:jobstack:job-events`;
}

const progressSchema = z.object({
  percent: z.number().min(0).max(100),
  message: z.string().nullable(),
  updatedAt: z.string(),
});

const jobEventMessage = z.discriminatedUnion('kind', [
  // the row changed status: listeners read the row, which is the record of what it is now
  z.object({ kind: z.literal('status'), jobId: z.string() }),
  z.object({ kind: z.literal('progress'), jobId: z.string(), progress: progressSchema }),
]);

/** What a worker says on `jobEventsChannel`. */
export type JobEventMessage = z.infer<typeof jobEventMessage>;

export function encodeJobEvent(message: JobEventMessage): string {
  return JSON.stringify(message);
}

/** Null for anything that is not a JobEventMessage (another version's, or garbage). */
export function decodeJobEvent(text: string): JobEventMessage | null {
  try {
    const parsed = jobEventMessage.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    // not JSON: not one of ours
    return null;
  }
}

import type { JobQueue } from '@repo/jobs';

/** What the queue holds for a job id, as far as reconcile needs to know. */
export type QueueJobState =
  /** No such BullMQ job: never added, or lost (Redis restarted without persistence, evicted). */
  | { state: 'missing' }
  /** Waiting, delayed or active: BullMQ will deliver it, or is delivering it. */
  | { state: 'pending' }
  | { state: 'completed' }
  /** Failed for good: BullMQ will not try it again. */
  | { state: 'failed'; reason: string };

/**
 * The state of each BullMQ job, in the order of `ids`. One HMGET of two small fields per job,
 * all sent at once over the queue's connection, answers for most jobs: BullMQ's own getJob would
 * read each whole hash with its payload, and getJobState runs a script that scans the wait and
 * active lists, for every one of up to a page of jobs. Only finished jobs are asked again, through
 * BullMQ, whether they completed or failed.
 */
export async function lookUpQueueJobs(
  queue: JobQueue,
  ids: readonly string[],
): Promise<QueueJobState[]> {
  const client = await queue.getBackend().client;
  // `timestamp` is set when a job is added; `finishedOn` when it completes or fails for good
  const fields = await Promise.all(
    ids.map((id) => client.hmget(queue.toKey(id), 'timestamp', 'finishedOn')),
  );
  return Promise.all(
    ids.map(async (id, index): Promise<QueueJobState> => {
      const [timestamp, finishedOn] = fields[index] ?? [];
      if (timestamp === null || timestamp === undefined) return { state: 'missing' };
      if (finishedOn === null || finishedOn === undefined) return { state: 'pending' };
      const job = await queue.getJob(id);
      const state = await job?.getState();
      if (state === 'failed') return { state, reason: job?.failedReason ?? 'failed in BullMQ' };
      if (state === 'completed') return { state };
      // retried or removed meanwhile
      return job ? { state: 'pending' } : { state: 'missing' };
    }),
  );
}

import type { MaintenanceConfig } from '@repo/config';
import type { JobRepository } from '@repo/db';
import {
  enqueueJob,
  InvalidPayloadError,
  type JobQueue,
  resolveJobType,
  UnknownJobTypeError,
} from '@repo/jobs';
import type { JobHandler } from './job-handler.ts';

const BATCH = 500;

/**
 * The API commits a row and then enqueues; a crash (or a Redis outage) between the two leaves a
 * row queued with no BullMQ job. Such rows older than RECONCILE_AFTER are enqueued again under
 * the same id, so running this twice, or next to a late original enqueue, adds nothing twice.
 */
export function maintenanceReconcile(deps: {
  config: MaintenanceConfig;
  jobs: Pick<JobRepository, 'findStaleQueued' | 'markFailed'>;
  queue: JobQueue;
}): JobHandler<'maintenance.reconcile'> {
  return async (_payload, { logger }) => {
    const stale = await deps.jobs.findStaleQueued({
      queuedBefore: new Date(Date.now() - deps.config.RECONCILE_AFTER),
      limit: BATCH,
    });
    let requeued = 0;
    for (const row of stale) {
      if (await deps.queue.getJob(row.id)) continue;
      try {
        await enqueueJob(deps.queue, {
          id: row.id,
          type: resolveJobType(row.type),
          payload: row.payload as never,
          runAt: row.runAt,
          maxAttempts: row.maxAttempts,
        });
        requeued += 1;
      } catch (error) {
        if (!(error instanceof InvalidPayloadError || error instanceof UnknownJobTypeError))
          throw error;
        // a row the current contract rejects can never run: record why instead of retrying forever
        await deps.jobs.markFailed(row.id, { error: error.message, final: true });
        logger.warn({ jobId: row.id, err: error }, 'stale job cannot be enqueued; marked failed');
      }
    }
    if (requeued > 0) logger.warn({ requeued }, 're-enqueued jobs that had no queue entry');
    return { checked: stale.length, requeued };
  };
}

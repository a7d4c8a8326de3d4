import { z } from 'zod';
import { defineJobType } from '../define-job-type.ts';

// Maintenance runs on beat's schedules; a failed run is simply retried by the next one.
const maintenanceOptions = {
  attempts: 1,
  backoffMs: 0,
  keepCompletedSeconds: 86_400,
  keepFailedSeconds: 604_800,
};

export const maintenanceReconcile = defineJobType({
  type: 'maintenance.reconcile',
  description:
    'Ends as expired the queued jobs not started within their ttl, and checks the jobs queued or running in Postgres for longer than RECONCILE_AFTER against their BullMQ jobs: enqueues again, with the attempts they have left, those whose BullMQ job is missing (a crash between commit and enqueue, a job Redis lost), and marks failed those BullMQ failed for good. Walks them oldest first, a bounded number per run, each run going on where the previous one stopped. Idempotent.',
  payload: z.strictObject({}),
  result: z.object({
    /** Stale jobs looked at in this run. */
    checked: z.int(),
    /** Enqueued again. */
    requeued: z.int(),
    /** Marked failed: failed for good in BullMQ, rejected by the contract, or out of attempts. */
    failed: z.int(),
    /** Queued jobs ended as expired: not started within their ttl. */
    expired: z.int(),
    /** The run reached the newest stale job; the next one starts from the oldest again. */
    caughtUp: z.boolean(),
  }),
  enqueueable: false,
  options: maintenanceOptions,
});

export const maintenancePrune = defineJobType({
  type: 'maintenance.prune',
  description:
    'Deletes finished job rows older than JOB_RETENTION, PRUNE_BATCH_SIZE rows at a time.',
  payload: z.strictObject({}),
  result: z.object({ deleted: z.int() }),
  enqueueable: false,
  options: maintenanceOptions,
});

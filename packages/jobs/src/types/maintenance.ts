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
    'Enqueues again the jobs that are queued in Postgres for longer than RECONCILE_AFTER but have no BullMQ job (a crash between commit and enqueue). Idempotent.',
  payload: z.strictObject({}),
  result: z.object({ checked: z.int(), requeued: z.int() }),
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

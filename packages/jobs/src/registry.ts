import type { z } from 'zod';
import { maintenancePrune, maintenanceReconcile } from './types/maintenance.ts';
import { systemEcho } from './types/system-echo.ts';
import { webhookDeliver } from './types/webhook-deliver.ts';

/** Every job type. Adding one touches more than this file: the README's "Adding a job type" lists each, in order. */
export const jobTypes = {
  [systemEcho.type]: systemEcho,
  [webhookDeliver.type]: webhookDeliver,
  [maintenanceReconcile.type]: maintenanceReconcile,
  [maintenancePrune.type]: maintenancePrune,
} as const;

export type JobTypes = typeof jobTypes;
export type JobType = keyof JobTypes;
export type JobPayload<T extends JobType> = z.output<JobTypes[T]['payload']>;
export type JobResult<T extends JobType> = z.input<JobTypes[T]['result']>;

export const JOB_TYPE_NAMES = Object.keys(jobTypes) as JobType[];
export const ENQUEUEABLE_JOB_TYPES = JOB_TYPE_NAMES.filter((type) => jobTypes[type].enqueueable);

export function isJobType(type: string): type is JobType {
  return Object.hasOwn(jobTypes, type);
}

import { z } from 'zod';

/** A job's priority: 1 runs first, 10 last, among the jobs waiting for a worker. */
export const jobPrioritySchema = z.int().min(1).max(10);

/** What a job gets when none is asked for: the middle, so a client can go either way. */
export const DEFAULT_JOB_PRIORITY = 5;

/**
 * BullMQ's priority for a job's. BullMQ takes jobs without a priority (0) before every
 * prioritized job, so each job gets one, the default included: otherwise a job at the default
 * would overtake one at priority 1. Within a priority, BullMQ keeps the order jobs were added in.
 */
export function queuePriority(priority: number | null | undefined): number {
  return priority ?? DEFAULT_JOB_PRIORITY;
}

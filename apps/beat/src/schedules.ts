import { defineSchedule } from '@repo/jobs';

/**
 * The recurring jobs. Beat makes Redis match this list on every start and re-sync: a new entry
 * is added, a changed one updated, a removed one deleted. `id` is the scheduler's identity.
 */
export const schedules = [
  defineSchedule({
    id: 'maintenance.reconcile',
    type: 'maintenance.reconcile',
    payload: {},
    every: 60_000,
  }),
  defineSchedule({
    id: 'maintenance.prune',
    type: 'maintenance.prune',
    payload: {},
    pattern: '15 3 * * *',
    tz: 'UTC',
  }),
];

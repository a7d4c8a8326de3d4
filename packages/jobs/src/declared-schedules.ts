import { defineSchedule } from './schedules.ts';

/**
 * The recurring jobs declared in code. Beat makes Redis match this list (and the schedules defined
 * through the API) on every start and re-sync: a new entry is added, a changed one updated, a
 * removed one deleted. `id` is the scheduler's identity; the API lists these as `"source": "code"`
 * and refuses to change them or to define a schedule with one of their ids.
 */
export const declaredSchedules = [
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

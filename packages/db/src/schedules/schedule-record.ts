import type { Schedule } from '../generated/prisma/client.ts';

// The row's shape is the Prisma model `Schedule` (prisma/schema.prisma); nothing here repeats a column.

/** One row of the `schedules` table, as the repository returns it. */
export type ScheduleRecord = Schedule;

/** What a client defines: everything but the id, the revision and the times. */
export type ScheduleDefinition = Pick<
  ScheduleRecord,
  'key' | 'type' | 'cron' | 'timezone' | 'everySeconds' | 'paused' | 'description'
> & {
  /** Stored as jsonb; must be JSON-serialisable. */
  payload: unknown;
};

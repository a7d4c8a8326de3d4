import type { ScheduleRecord, ScheduleRepository } from '@repo/db';
import {
  DEFAULT_SCHEDULE_TIMEZONE,
  type DefinedSchedules,
  type ScheduleDeclaration,
} from '@repo/jobs';

/**
 * The API-defined schedules (the `schedules` table) as syncSchedules applies them. The row's
 * type and payload are checked by the sync: a row the code cannot run is skipped, not fatal.
 */
export function loadDefinedSchedules(
  repository: Pick<ScheduleRepository, 'listWithRevision'>,
): () => Promise<DefinedSchedules> {
  return async () => {
    const { schedules, revision } = await repository.listWithRevision();
    return {
      revision,
      schedules: schedules.map((row) => ({
        declaration: declarationOf(row),
        revision: row.revision,
        paused: row.paused,
      })),
    };
  };
}

function declarationOf(row: ScheduleRecord): ScheduleDeclaration {
  const timing =
    row.cron === null
      ? { every: (row.everySeconds ?? 0) * 1_000 }
      : { pattern: row.cron, tz: row.timezone ?? DEFAULT_SCHEDULE_TIMEZONE };
  return { id: row.key, type: row.type, payload: row.payload, ...timing } as ScheduleDeclaration;
}

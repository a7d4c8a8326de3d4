import type { components } from './api-types.ts';

type Schedule = components['schemas']['Schedule'];
type CreateScheduleInput = components['schemas']['CreateSchedule'];

/** The time zone the API reads a cron schedule in when it is given none. */
const DEFAULT_SCHEDULE_TIMEZONE = 'UTC';

/**
 * Whether `schedule` is what `input` defines, as the API stores it (defaults applied). A
 * createSchedule whose first attempt's answer was lost meets its own schedule on the repeat
 * (409 `schedule-exists`); this tells it from someone else's. Anything it cannot be sure of
 * (a payload the type's schema rewrote, say) counts as different: the 409 stands.
 */
export function definesSchedule(schedule: Schedule, input: CreateScheduleInput): boolean {
  return (
    schedule.source === 'api' &&
    schedule.key === input.key &&
    schedule.type === input.type &&
    sameJson(schedule.payload, input.payload) &&
    schedule.cron === (input.cron ?? null) &&
    schedule.timezone ===
      (input.cron === undefined ? null : (input.timezone ?? DEFAULT_SCHEDULE_TIMEZONE)) &&
    schedule.everySeconds === (input.everySeconds ?? null) &&
    schedule.paused === (input.paused ?? false) &&
    schedule.description === (input.description ?? null)
  );
}

/**
 * Equal JSON values, the order of object members aside (PostgreSQL's jsonb does not keep it).
 * Hand-written: a few lines for JSON values, where node:util's isDeepStrictEqual would tie the
 * client to Node and a library would be its only use of one.
 */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const aMembers = a as Record<string, unknown>;
  const bMembers = b as Record<string, unknown>;
  const keys = Object.keys(aMembers);
  return (
    keys.length === Object.keys(bMembers).length &&
    keys.every((key) => Object.hasOwn(bMembers, key) && sameJson(aMembers[key], bMembers[key]))
  );
}

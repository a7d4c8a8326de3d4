import { CronExpressionParser } from 'cron-parser';

/** When a schedule runs: a cron expression read in an IANA time zone, or a fixed interval. */
export type ScheduleTiming = { cron: string; timezone: string } | { everySeconds: number };

/** The time zone a cron expression is read in when none is given. */
export const DEFAULT_SCHEDULE_TIMEZONE = 'UTC';

/** How many upcoming runs a schedule shows. */
export const NEXT_RUNS_SHOWN = 5;

/** A cron expression or time zone a schedule cannot run with; the message says why. */
export class InvalidScheduleTimingError extends Error {
  override readonly name = 'InvalidScheduleTimingError';
  readonly field: 'cron' | 'timezone';

  constructor(field: 'cron' | 'timezone', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.field = field;
  }
}

/** An IANA time zone name as the platform's Intl knows it ("Europe/Berlin", "UTC"). */
export function checkTimezone(timezone: string): void {
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch (error) {
    throw new InvalidScheduleTimingError(
      'timezone',
      `"${timezone}" is not an IANA time zone (such as "Europe/Berlin" or "UTC")`,
      { cause: error },
    );
  }
}

/**
 * Parses the expression as BullMQ does when it computes a job scheduler's runs (cron-parser,
 * `tz` set), and asks for one run, which is where an impossible expression ("0 0 31 2 *") fails.
 */
export function checkCron(cron: string, timezone: string): void {
  checkTimezone(timezone);
  try {
    CronExpressionParser.parse(cron, { tz: timezone, currentDate: new Date() }).next();
  } catch (error) {
    throw new InvalidScheduleTimingError(
      'cron',
      `"${cron}" is not a cron expression that ever runs: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/**
 * The next `count` runs after `after`, as BullMQ's default repeat strategy computes them: a cron
 * expression through cron-parser in the schedule's time zone (so daylight-saving changes are
 * handled as cron-parser handles them: a time that does not exist on the spring-forward day runs
 * an hour later, one that occurs twice on the fall-back day runs once, at its first occurrence),
 * an interval at the multiples of its length since the epoch (BullMQ's `every` alignment).
 */
export function nextRuns(timing: ScheduleTiming, after: Date, count = NEXT_RUNS_SHOWN): Date[] {
  if ('everySeconds' in timing) {
    const every = timing.everySeconds * 1_000;
    const first = Math.floor(after.getTime() / every) * every + every;
    return Array.from({ length: count }, (_, index) => new Date(first + index * every));
  }
  const expression = CronExpressionParser.parse(timing.cron, {
    tz: timing.timezone,
    currentDate: after,
  });
  return expression.take(count).map((run) => run.toDate());
}

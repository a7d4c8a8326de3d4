import { describe, expect, it } from 'vitest';
import {
  checkCron,
  checkTimezone,
  InvalidScheduleTimingError,
  nextRuns,
} from './schedule-timing.ts';

/** The runs whose local date (in `timezone`) is `day` (YYYY-MM-DD). */
function runsOnLocalDay(runs: Date[], timezone: string, day: string): string[] {
  const localDay = new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  });
  return runs.filter((run) => localDay.format(run) === day).map((run) => run.toISOString());
}

describe('nextRuns', () => {
  const daily = { cron: '30 2 * * *', timezone: 'Europe/Berlin' };

  it('runs a daily 02:30 Berlin schedule once on the spring-forward day, at 03:30 CEST (02:30 does not exist)', () => {
    // 2027-03-28: clocks go from 02:00 CET to 03:00 CEST
    const runs = nextRuns(daily, new Date('2027-03-26T12:00:00Z'), 4);
    expect(runsOnLocalDay(runs, daily.timezone, '2027-03-28')).toEqual([
      '2027-03-28T01:30:00.000Z',
    ]);
    expect(runs.map((run) => run.toISOString())).toEqual([
      '2027-03-27T01:30:00.000Z', // 02:30 CET
      '2027-03-28T01:30:00.000Z', // 03:30 CEST
      '2027-03-29T00:30:00.000Z', // 02:30 CEST
      '2027-03-30T00:30:00.000Z',
    ]);
  });

  it('runs it once on the fall-back day, at the first of the two 02:30s (CEST)', () => {
    // 2027-10-31: clocks go from 03:00 CEST back to 02:00 CET, so 02:30 happens twice
    const runs = nextRuns(daily, new Date('2027-10-29T12:00:00Z'), 4);
    expect(runsOnLocalDay(runs, daily.timezone, '2027-10-31')).toEqual([
      '2027-10-31T00:30:00.000Z',
    ]);
    expect(runs.map((run) => run.toISOString())).toEqual([
      '2027-10-30T00:30:00.000Z', // 02:30 CEST
      '2027-10-31T00:30:00.000Z', // the first 02:30, CEST; not again at 01:30Z (02:30 CET)
      '2027-11-01T01:30:00.000Z', // 02:30 CET
      '2027-11-02T01:30:00.000Z',
    ]);
  });

  it('reads the expression in UTC when asked to, whatever the host zone', () => {
    const runs = nextRuns({ cron: '0 9 * * 1', timezone: 'UTC' }, new Date('2027-01-01T00:00:00Z'));
    expect(runs.map((run) => run.toISOString())).toEqual([
      '2027-01-04T09:00:00.000Z',
      '2027-01-11T09:00:00.000Z',
      '2027-01-18T09:00:00.000Z',
      '2027-01-25T09:00:00.000Z',
      '2027-02-01T09:00:00.000Z',
    ]);
  });

  it('puts interval runs on the multiples of the interval since the epoch, as BullMQ does', () => {
    const runs = nextRuns({ everySeconds: 60 }, new Date('2027-01-01T00:00:30.500Z'), 3);
    expect(runs.map((run) => run.toISOString())).toEqual([
      '2027-01-01T00:01:00.000Z',
      '2027-01-01T00:02:00.000Z',
      '2027-01-01T00:03:00.000Z',
    ]);
  });
});

describe('checkCron and checkTimezone', () => {
  it('accept five- and six-field expressions and IANA zones', () => {
    expect(() => checkCron('*/5 * * * *', 'America/New_York')).not.toThrow();
    expect(() => checkCron('0 30 2 * * *', 'UTC')).not.toThrow();
    expect(() => checkTimezone('Asia/Kolkata')).not.toThrow();
  });

  it.each([
    ['61 * * * *', /not a cron expression.*61/],
    ['hello', /not a cron expression/],
    ['0 0 31 2 *', /not a cron expression that ever runs/],
  ])('refuse the expression %s, naming the cron field', (cron, message) => {
    const error = (() => {
      try {
        checkCron(cron, 'UTC');
      } catch (thrown) {
        return thrown;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(InvalidScheduleTimingError);
    expect(error).toMatchObject({ field: 'cron', message: expect.stringMatching(message) });
  });

  it('refuse a zone that is not an IANA name, naming the timezone field', () => {
    expect(() => checkCron('* * * * *', 'Mars/Olympus_Mons')).toThrow(
      expect.objectContaining({ field: 'timezone', message: expect.stringMatching(/IANA/) }),
    );
  });
});

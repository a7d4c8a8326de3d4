import { describe, expect, it } from 'vitest';
import type { components } from './api-types.ts';
import { definesSchedule, sameJson } from './schedule-definition.ts';

const stored: components['schemas']['Schedule'] = {
  key: 'reports.nightly',
  source: 'api',
  type: 'system.echo',
  payload: { data: { a: 1, b: [1, { c: null }] } },
  cron: '30 2 * * *',
  timezone: 'UTC',
  everySeconds: null,
  paused: false,
  description: null,
  nextRuns: [],
  lastJob: null,
  createdAt: '2026-12-02T10:00:00.000Z',
  updatedAt: '2026-12-02T10:00:00.000Z',
  links: {
    self: '/v1/schedules/reports.nightly',
    trigger: '/v1/schedules/reports.nightly/trigger',
  },
};
const input = {
  key: 'reports.nightly',
  type: 'system.echo',
  payload: { data: { b: [1, { c: null }], a: 1 } },
  cron: '30 2 * * *',
};

describe('definesSchedule', () => {
  it('recognises the schedule an input defines, with the API defaults applied', () => {
    expect(definesSchedule(stored, input)).toBe(true);
    expect(
      definesSchedule(
        { ...stored, cron: null, timezone: null, everySeconds: 60, paused: true },
        {
          key: input.key,
          type: input.type,
          payload: input.payload,
          everySeconds: 60,
          paused: true,
        },
      ),
    ).toBe(true);
  });

  it.each([
    ['another payload', { payload: { data: { a: 2, b: [1, { c: null }] } } }],
    ['another cron', { cron: '0 * * * *' }],
    ['another time zone', { timezone: 'Europe/Berlin' }],
    ['paused', { paused: true }],
    ['a description', { description: 'someone else' }],
    ['another type', { type: 'webhook.deliver' }],
  ])('tells it from a schedule with %s', (_case, change) => {
    expect(definesSchedule(stored, { ...input, ...change })).toBe(false);
  });

  it('never takes a code-declared schedule for one the API defined', () => {
    expect(definesSchedule({ ...stored, source: 'code' }, input)).toBe(false);
  });
});

describe('sameJson', () => {
  it('compares JSON values deeply, ignoring the order of members only', () => {
    expect(sameJson({ a: [1, 2], b: { c: 'x' } }, { b: { c: 'x' }, a: [1, 2] })).toBe(true);
    expect(sameJson([1, 2], [2, 1])).toBe(false);
    expect(sameJson({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(sameJson({ 0: 1 }, [1])).toBe(false);
    expect(sameJson(null, {})).toBe(false);
    expect(sameJson('1', 1)).toBe(false);
  });
});

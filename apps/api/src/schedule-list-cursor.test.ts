import { InvalidCursorError } from '@repo/db';
import { describe, expect, it } from 'vitest';
import { decodeScheduleCursor, encodeScheduleCursor } from './schedule-list-cursor.ts';

const encoded = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

describe('schedule list cursors', () => {
  it('round-trips a position of either part, keys with colons included', () => {
    for (const position of [
      { source: 'code', key: 'maintenance.prune' },
      { source: 'api', key: 'tenant:42:report-1' },
      { source: 'api', key: 'Z' },
    ] as const) {
      const cursor = encodeScheduleCursor(position);
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeScheduleCursor(cursor)).toEqual(position);
    }
  });

  it.each([
    ['not base64url', 'a+b/c='],
    ['empty', ''],
    ['no separator', encoded('api')],
    ['an unknown part', encoded('job:reports.nightly')],
    ['an empty key', encoded('api:')],
    ['a key no schedule may have', encoded('api:has space')],
    [
      'another spelling of the same bytes',
      `${encodeScheduleCursor({ source: 'api', key: 'ab' })}x`,
    ],
    ['too long', 'A'.repeat(201)],
  ])('refuses %s with InvalidCursorError', (_case, cursor) => {
    expect(() => decodeScheduleCursor(cursor)).toThrow(InvalidCursorError);
  });
});

import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvalidCursorError } from './job-errors.ts';
import { decodeCursor, encodeCursor } from './list-cursor.ts';

describe('list cursors', () => {
  it('round-trips a position to the millisecond, as an opaque URL-safe string', () => {
    const position = { createdAt: new Date('2030-05-06T07:08:09.123Z'), id: randomUUID() };
    const cursor = encodeCursor(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(cursor).not.toContain(position.id);
    expect(decodeCursor(cursor)).toEqual(position);
  });

  it('refuses anything it did not produce, saying what to pass instead', () => {
    const valid = encodeCursor({ createdAt: new Date(0), id: randomUUID() });
    for (const cursor of ['', '%%%', valid.slice(0, -3), `${valid}AA`, 'a'.repeat(201)]) {
      expect(() => decodeCursor(cursor), cursor).toThrow(InvalidCursorError);
    }
    expect(() => decodeCursor('abc')).toThrow(/pass back the nextCursor of a previous page/);
  });
});

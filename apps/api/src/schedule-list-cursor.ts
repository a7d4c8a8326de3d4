import { InvalidCursorError } from '@repo/db';
import { SCHEDULE_KEY_PATTERN } from './routes/schedules.contract.ts';

/**
 * A position in the list of schedules: the last schedule of the previous page. The list is those
 * declared in code first, then those defined through the API, each part by key in byte order, so
 * a position is the part and the key.
 */
export interface ScheduleListPosition {
  source: 'code' | 'api';
  key: string;
}

/** Opaque to clients (base64url); inside it is "<source>:<key>". */
export function encodeScheduleCursor(position: ScheduleListPosition): string {
  return Buffer.from(`${position.source}:${position.key}`, 'utf8').toString('base64url');
}

/** Throws InvalidCursorError for anything encodeScheduleCursor did not produce. */
export function decodeScheduleCursor(cursor: string): ScheduleListPosition {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) throw new InvalidCursorError(cursor);
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  const separator = decoded.indexOf(':');
  const source = decoded.slice(0, separator);
  const key = decoded.slice(separator + 1);
  if (
    separator < 0 ||
    (source !== 'code' && source !== 'api') ||
    !SCHEDULE_KEY_PATTERN.test(key) ||
    // base64url has more than one spelling of the same bytes; only the one issued is accepted
    encodeScheduleCursor({ source, key }) !== cursor
  ) {
    throw new InvalidCursorError(cursor);
  }
  return { source, key };
}

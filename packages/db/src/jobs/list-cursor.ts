import { InvalidCursorError } from './job-errors.ts';

/** A position in the (createdAt desc, id desc) order: the last job of the previous page. */
export interface ListPosition {
  createdAt: Date;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/**
 * Cursors are opaque to clients (base64url); inside they are "<createdAt ISO>_<id>". created_at
 * has millisecond precision (TIMESTAMPTZ(3)), which a JavaScript Date holds exactly, so the
 * position survives the round trip without loss.
 */
export function encodeCursor(position: ListPosition): string {
  return Buffer.from(`${position.createdAt.toISOString()}_${position.id}`, 'utf8').toString(
    'base64url',
  );
}

export function decodeCursor(cursor: string): ListPosition {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) throw new InvalidCursorError(cursor);
  const [instant, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('_');
  if (
    rest.length > 0 ||
    instant === undefined ||
    id === undefined ||
    !ISO_INSTANT.test(instant) ||
    !UUID.test(id)
  ) {
    throw new InvalidCursorError(cursor);
  }
  const createdAt = new Date(instant);
  if (Number.isNaN(createdAt.getTime()) || createdAt.toISOString() !== instant) {
    throw new InvalidCursorError(cursor);
  }
  return { createdAt, id: id.toLowerCase() };
}

import { z } from 'zod';

/** A tenant id or anything else jobs are limited by: short, and safe inside a Redis key name. */
export const concurrencyKeySchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'expected 1-128 characters of A-Z a-z 0-9 _ . : -');

/**
 * The field of a queued job's data that carries its concurrency key next to the payload's own
 * fields. A BullMQ job has no field of ours besides its data, and jobs queued before keys existed
 * must still parse, so the key is one reserved field that the worker takes out before it parses
 * the payload; no payload schema may use this name.
 */
export const CONCURRENCY_KEY_FIELD = '$concurrencyKey';

/**
 * The field that carries what the job's row had counted when this BullMQ job was added (see
 * QueuedRowCount), reserved like CONCURRENCY_KEY_FIELD.
 */
export const ROW_COUNT_FIELD = '$row';

/**
 * What the row had counted when its BullMQ job was added, so that the worker knows the attempt
 * numbers without reading the row: it may then run the job before writing `running` (the worker's
 * JOB_RUNNING_STATUS_DELAY). Jobs added without it (by an older version, scheduled runs) are
 * started the other way, `running` first.
 */
export interface QueuedRowCount {
  /** The attempts the row had used before this BullMQ job (0 for a new job). */
  attemptsUsed: number;
  /** The row's ttl deadline (ISO-8601), null when it has none. */
  expiresAt: string | null;
}

const rowCountSchema = z.object({
  attemptsUsed: z.number().int().min(0),
  expiresAt: z.iso.datetime({ offset: true }).nullable(),
});

/** The data a BullMQ job carries: the payload, plus the key and the row's count when given. */
export function queuedJobData(
  payload: unknown,
  concurrencyKey: string | null | undefined,
  rowCount?: QueuedRowCount | null,
): unknown {
  if (!concurrencyKey && !rowCount) return payload;
  return {
    ...(payload as Record<string, unknown>),
    ...(concurrencyKey ? { [CONCURRENCY_KEY_FIELD]: concurrencyKey } : {}),
    ...(rowCount ? { [ROW_COUNT_FIELD]: rowCount } : {}),
  };
}

/**
 * The inverse of `queuedJobData`: the payload as enqueued, the key (null without one) and the
 * row's count (null without one, or when it does not parse).
 */
export function splitQueuedJobData(data: unknown): {
  payload: unknown;
  concurrencyKey: string | null;
  rowCount: QueuedRowCount | null;
} {
  if (
    data === null ||
    typeof data !== 'object' ||
    (!Object.hasOwn(data, CONCURRENCY_KEY_FIELD) && !Object.hasOwn(data, ROW_COUNT_FIELD))
  ) {
    return { payload: data, concurrencyKey: null, rowCount: null };
  }
  const {
    [CONCURRENCY_KEY_FIELD]: key,
    [ROW_COUNT_FIELD]: count,
    ...payload
  } = data as Record<string, unknown>;
  const parsedKey = concurrencyKeySchema.safeParse(key);
  const parsedCount = rowCountSchema.safeParse(count);
  return {
    payload,
    concurrencyKey: parsedKey.success ? parsedKey.data : null,
    rowCount: parsedCount.success ? parsedCount.data : null,
  };
}

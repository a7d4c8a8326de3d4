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

/** The data a BullMQ job carries: the payload, plus the key when the job has one. */
export function queuedJobData(
  payload: unknown,
  concurrencyKey: string | null | undefined,
): unknown {
  if (!concurrencyKey) return payload;
  return { ...(payload as Record<string, unknown>), [CONCURRENCY_KEY_FIELD]: concurrencyKey };
}

/** The inverse of `queuedJobData`: the payload as enqueued, and the key (null without one). */
export function splitQueuedJobData(data: unknown): {
  payload: unknown;
  concurrencyKey: string | null;
} {
  if (data === null || typeof data !== 'object' || !Object.hasOwn(data, CONCURRENCY_KEY_FIELD)) {
    return { payload: data, concurrencyKey: null };
  }
  const { [CONCURRENCY_KEY_FIELD]: key, ...payload } = data as Record<string, unknown>;
  const parsed = concurrencyKeySchema.safeParse(key);
  return { payload, concurrencyKey: parsed.success ? parsed.data : null };
}

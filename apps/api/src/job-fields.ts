import { z } from 'zod';

// The schemas of the fields a client sets on a job besides its type and payload, shared by
// POST /v1/jobs, its batch form, the listing's filters and the bulk retry's filters.

/** The most tags a job carries. */
export const MAX_TAGS = 10;
/** The most bytes a job's metadata may take, written as JSON (UTF-8). */
export const MAX_METADATA_BYTES = 4_096;

/** One tag: short, and safe in a URL query and a log line without escaping. */
export const tagSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'expected 1-64 characters of A-Z a-z 0-9 _ . : -');

export const tagsSchema = z
  .array(tagSchema)
  .max(MAX_TAGS, `expected at most ${MAX_TAGS} tags`)
  .refine((tags) => new Set(tags).size === tags.length, 'expected each tag once');

export const metadataSchema = z
  .record(z.string(), z.unknown(), { error: 'expected a JSON object' })
  .refine((metadata) => Buffer.byteLength(JSON.stringify(metadata)) <= MAX_METADATA_BYTES, {
    message: `expected at most ${MAX_METADATA_BYTES} bytes once written as JSON`,
  });

/** The longest ttl: a year, as far as `runAt` may lie ahead. */
export const MAX_TTL_SECONDS = 31_536_000;

/** Seconds a job may wait to start once due (its runAt, else its creation). */
export const ttlSchema = z.int().min(1).max(MAX_TTL_SECONDS);

/** The statuses a job can be retried from: it ended without succeeding. */
export const RETRYABLE_STATUSES = ['failed', 'cancelled', 'expired'] as const;

/** The most jobs one bulk retry retries, and how many it retries when not told. */
export const MAX_BULK_RETRY = 1_000;
export const DEFAULT_BULK_RETRY = 100;

/**
 * The idempotency key of a job's retry: one retry per job, however often the job is retried, so
 * a repeated or concurrent retry (or a bulk retry run twice) creates nothing more. A retry that
 * fails in turn is retried as a job of its own, under its own key.
 */
export function retryIdempotencyKey(sourceJobId: string): string {
  return `retry:${sourceJobId}`;
}

/** `?tag=a&tag=b` (every one must be carried): one value arrives as a string, several as an array. */
export const tagQuerySchema = z
  .union([tagSchema.transform((tag) => [tag]), z.array(tagSchema).max(MAX_TAGS)], {
    error: `expected 1 to ${MAX_TAGS} tags of 1-64 characters of A-Z a-z 0-9 _ . : -`,
  })
  .optional();

/** An instant in a query: ISO 8601 with a time zone, as every time the API returns is written. */
export const instantQuerySchema = z.iso
  .datetime({
    offset: true,
    error: 'expected an ISO-8601 date-time with a time zone, e.g. 2026-12-03T10:00:00Z',
  })
  .transform((value) => new Date(value))
  .optional();

import { z } from 'zod';
import type { JobTypeLimits } from '../define-job-type.ts';
import { UnknownJobTypeError } from '../errors.ts';
import { isJobType, JOB_TYPE_NAMES, type JobType, jobTypes } from '../registry.ts';

const limit = z.int().min(1).max(100_000);

/**
 * JOB_LIMITS' entry for one job type: each field present replaces the contract's limit, `null`
 * lifts it.
 */
export const jobTypeLimitsOverride = z.strictObject({
  maxConcurrent: limit.nullish(),
  maxConcurrentPerKey: limit.nullish(),
  rateLimitPerKey: z.strictObject({ max: limit, perSeconds: z.int().min(1).max(86_400) }).nullish(),
});
export type JobTypeLimitsOverride = z.output<typeof jobTypeLimitsOverride>;

/** One job type's limits as the scripts take them: 0 means no limit. */
export interface ResolvedLimits {
  maxConcurrent: number;
  maxConcurrentPerKey: number;
  rateMax: number;
  rateWindowMs: number;
}

export type LimitsByType = Readonly<Partial<Record<JobType, ResolvedLimits>>>;

/**
 * Whether a limit in `limits` applies to a job: its type's `maxConcurrent`, or, for a job with a
 * key, a limit per key. Only such a job is ever parked, so only it can be waiting for a limit.
 * Takes any type name (a stored row's), as one that is not a job type has no limit.
 */
export function limitApplies(
  limits: LimitsByType,
  type: string,
  concurrencyKey: string | null,
): boolean {
  const l = limits[type as JobType];
  if (!l) return false;
  return (
    l.maxConcurrent > 0 || (concurrencyKey !== null && (l.maxConcurrentPerKey > 0 || l.rateMax > 0))
  );
}

/**
 * The limits in force: the contract's, each field replaced by JOB_LIMITS where it names one. Only
 * types with at least one limit are listed, so a type without any costs the worker nothing.
 * Throws UnknownJobTypeError for an override of a type that does not exist (a typo would
 * otherwise lift nothing, silently).
 */
export function resolveJobLimits(
  overrides: Readonly<Record<string, JobTypeLimitsOverride>> = {},
): LimitsByType {
  for (const type of Object.keys(overrides)) {
    if (!isJobType(type)) throw new UnknownJobTypeError(type, JOB_TYPE_NAMES);
  }
  const resolved: Partial<Record<JobType, ResolvedLimits>> = {};
  for (const type of JOB_TYPE_NAMES) {
    const declared: JobTypeLimits = jobTypes[type].limits ?? {};
    const override = overrides[type] ?? {};
    const pick = <K extends keyof JobTypeLimits>(name: K) =>
      override[name] === undefined ? declared[name] : (override[name] ?? undefined);
    const rate = pick('rateLimitPerKey');
    const limits: ResolvedLimits = {
      maxConcurrent: pick('maxConcurrent') ?? 0,
      maxConcurrentPerKey: pick('maxConcurrentPerKey') ?? 0,
      rateMax: rate?.max ?? 0,
      rateWindowMs: (rate?.perSeconds ?? 0) * 1_000,
    };
    if (limits.maxConcurrent || limits.maxConcurrentPerKey || limits.rateMax) {
      resolved[type] = limits;
    }
  }
  return resolved;
}

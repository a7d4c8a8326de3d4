import { InvalidPayloadError, UnknownJobTypeError } from './errors.ts';
import {
  ENQUEUEABLE_JOB_TYPES,
  isJobType,
  JOB_TYPE_NAMES,
  type JobPayload,
  type JobType,
  jobTypes,
} from './registry.ts';

/**
 * The API's gate: `type` must name a job type clients may enqueue, else UnknownJobTypeError
 * listing those that exist. Maintenance types are not offered.
 */
export function resolveEnqueueableType(type: string): JobType {
  if (isJobType(type) && jobTypes[type].enqueueable) return type;
  throw new UnknownJobTypeError(type, ENQUEUEABLE_JOB_TYPES);
}

/** Any job type, for the worker (which also runs scheduled maintenance). */
export function resolveJobType(type: string): JobType {
  if (isJobType(type)) return type;
  throw new UnknownJobTypeError(type, JOB_TYPE_NAMES);
}

export function parseJobPayload<T extends JobType>(type: T, payload: unknown): JobPayload<T> {
  const result = jobTypes[type].payload.safeParse(payload);
  if (!result.success) throw new InvalidPayloadError(type, result.error.issues);
  return result.data as JobPayload<T>;
}

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

/** Deeper payloads are refused before validation, whose recursion would overflow the stack. */
export const MAX_PAYLOAD_DEPTH = 64;

export function parseJobPayload<T extends JobType>(type: T, payload: unknown): JobPayload<T> {
  if (depthExceeds(payload, MAX_PAYLOAD_DEPTH)) {
    throw new InvalidPayloadError(type, [
      {
        code: 'custom',
        path: [],
        message: `nested more than ${MAX_PAYLOAD_DEPTH} levels deep`,
        input: undefined,
      },
    ]);
  }
  const result = jobTypes[type].payload.safeParse(payload);
  if (!result.success) throw new InvalidPayloadError(type, result.error.issues);
  return result.data as JobPayload<T>;
}

/** Iterative, so that measuring a hostile payload cannot overflow the stack either. */
function depthExceeds(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (current === null || typeof current !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return false;
}

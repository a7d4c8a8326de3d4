import { z } from 'zod';
import { JobTypeDefinitionError } from './errors.ts';

/** BullMQ options every job of a type gets unless the enqueuer overrides them. */
export interface JobTypeOptions {
  /** Total tries, the first one included. */
  attempts: number;
  /** Exponential backoff: the n-th retry waits delayMs × 2^(n-1). */
  backoffMs: number;
  /** Finished jobs stay in Redis this long (seconds) for the dashboard; Postgres keeps the record. */
  keepCompletedSeconds: number;
  keepFailedSeconds: number;
}

/**
 * How many jobs of a type may run at once and how fast they may start, across every worker
 * (packages/jobs README: fair execution). A job over a limit waits without using an attempt.
 * JOB_LIMITS overrides these per type.
 */
export interface JobTypeLimits {
  /** Jobs of this type running at once. */
  maxConcurrent?: number;
  /** Jobs of this type with the same `concurrencyKey` running at once. */
  maxConcurrentPerKey?: number;
  /** Jobs of this type with the same `concurrencyKey` started per window of `perSeconds`. */
  rateLimitPerKey?: { max: number; perSeconds: number };
}

export interface JobTypeDefinition<
  Type extends string = string,
  Payload extends z.ZodObject = z.ZodObject,
  Result extends z.ZodType = z.ZodType,
> {
  type: Type;
  description: string;
  /**
   * An object schema: `z.strictObject({...})` (unknown fields are a 400), `z.object` or
   * `z.looseObject`, refinements allowed. The payload is stored and queued as JSON and parsed
   * again by the enqueue and the worker, so what it parses to must parse again: no transforms.
   */
  payload: Payload;
  result: Result;
  /** Clients may enqueue it through the API; maintenance types run only on schedules. */
  enqueueable: boolean;
  options: JobTypeOptions;
  /** None when absent: the type runs as fast as the workers take it. */
  limits?: JobTypeLimits;
}

/**
 * Payloads are objects because jobs outlive deploys: queued, delayed (up to a year) and retried
 * jobs are parsed against the contract of the code that runs them, and only an object can gain
 * an optional field while the payloads already stored still parse. The type parameter says so to
 * TypeScript; the runtime check says so to a cast or a JavaScript caller.
 */
export function defineJobType<
  const Type extends string,
  Payload extends z.ZodObject,
  Result extends z.ZodType,
>(definition: JobTypeDefinition<Type, Payload, Result>): JobTypeDefinition<Type, Payload, Result> {
  if (!(definition.payload instanceof z.ZodObject)) {
    throw new JobTypeDefinitionError(
      definition.type,
      `payload must be an object schema (z.strictObject, z.object or z.looseObject), not ${describeSchema(definition.payload)}. An object can gain optional fields later while the jobs already queued still validate; a type with no parameters takes z.strictObject({}).`,
    );
  }
  return Object.freeze(definition);
}

function describeSchema(schema: unknown): string {
  const kind = (schema as { _zod?: { def?: { type?: unknown } } } | null)?._zod?.def?.type;
  return typeof kind === 'string' ? `a zod ${kind} schema` : 'a value that is no zod schema';
}

import type { z } from 'zod';

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

export interface JobTypeDefinition<
  Type extends string = string,
  Payload extends z.ZodType = z.ZodType,
  Result extends z.ZodType = z.ZodType,
> {
  type: Type;
  description: string;
  payload: Payload;
  result: Result;
  /** Clients may enqueue it through the API; maintenance types run only on schedules. */
  enqueueable: boolean;
  options: JobTypeOptions;
}

export function defineJobType<
  const Type extends string,
  Payload extends z.ZodType,
  Result extends z.ZodType,
>(definition: JobTypeDefinition<Type, Payload, Result>): JobTypeDefinition<Type, Payload, Result> {
  return Object.freeze(definition);
}

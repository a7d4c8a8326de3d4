import type { z } from 'zod';
import { ValidationError } from './problems.ts';

export type RequestPart = 'body' | 'query' | 'params' | 'headers';

/**
 * Parses one part of a request with its schema. On failure the zod issues go to the client with
 * paths that start at the part (["query", "limit"]), so it can tell which input to fix.
 */
export function parseRequestPart<S extends z.ZodType>(
  schema: S,
  value: unknown,
  part: RequestPart,
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ValidationError(
    `The request ${part === 'body' ? 'body' : part} did not pass validation.`,
    result.error.issues.map((issue) => ({ ...issue, path: [part, ...issue.path] })),
  );
}

import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJobType } from './define-job-type.ts';
import { JobTypeDefinitionError } from './errors.ts';

const rest = {
  description: 'a job type of this test',
  result: z.null(),
  enqueueable: true,
  options: { attempts: 1, backoffMs: 0, keepCompletedSeconds: 60, keepFailedSeconds: 60 },
};

describe('defineJobType', () => {
  it.each([
    ['z.strictObject', z.strictObject({ name: z.string() })],
    ['z.object', z.object({ name: z.string() })],
    ['z.looseObject', z.looseObject({ name: z.string() })],
    ['an empty z.strictObject', z.strictObject({})],
    [
      'a refined object',
      z
        .strictObject({ from: z.int(), to: z.int() })
        .refine(({ from, to }) => from <= to, 'from must not exceed to'),
    ],
  ])('accepts %s as the payload', (_name, payload) => {
    const definition = defineJobType({ type: 'test.accepted', payload, ...rest });
    expect(definition.payload).toBe(payload);
    expect(Object.isFrozen(definition)).toBe(true);
  });

  it('refuses a payload that is not an object schema, at compile time', () => {
    const refuse = () =>
      defineJobType({
        type: 'test.array',
        // @ts-expect-error a payload must be an object schema
        payload: z.array(z.string()),
        ...rest,
      });
    expect(refuse).toThrow(JobTypeDefinitionError);
  });

  it.each([
    ['an array', z.array(z.string()), 'a zod array schema'],
    ['a string', z.string(), 'a zod string schema'],
    [
      'a union of objects',
      z.union([z.object({ a: z.int() }), z.object({ b: z.int() })]),
      'a zod union schema',
    ],
    [
      'a transformed object',
      z.object({ n: z.string() }).transform(({ n }) => Number(n)),
      'a zod pipe schema',
    ],
    ['an optional object', z.object({}).optional(), 'a zod optional schema'],
    ['a plain object', { name: 'string' }, 'a value that is no zod schema'],
  ])('refuses %s at run time, naming the type and the rule', (_name, payload, described) => {
    let error: unknown;
    try {
      defineJobType({ type: 'test.refused', payload: payload as unknown as z.ZodObject, ...rest });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(JobTypeDefinitionError);
    expect((error as JobTypeDefinitionError).type).toBe('test.refused');
    expect((error as Error).message).toBe(
      `Job type "test.refused": payload must be an object schema (z.strictObject, z.object or z.looseObject), not ${described}. An object can gain optional fields later while the jobs already queued still validate; a type with no parameters takes z.strictObject({}).`,
    );
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJobType } from './define-job-type.ts';
import { describeJobType, renderJobTypeReference } from './job-type-reference.ts';
import { jobTypes } from './registry.ts';

const options = { attempts: 2, backoffMs: 500, keepCompletedSeconds: 60, keepFailedSeconds: 60 };

describe('job type reference', () => {
  it('docs/job-types.md is what the registry generates (run `pnpm --filter @repo/jobs docs:job-types`)', () => {
    const committed = readFileSync(new URL('../../../docs/job-types.md', import.meta.url), 'utf8');
    expect(committed).toBe(renderJobTypeReference());
  });

  it('has a row for every registered type, saying who may enqueue it', () => {
    const rendered = renderJobTypeReference();
    for (const definition of Object.values(jobTypes)) {
      const enqueuedBy = definition.enqueueable ? 'clients' : 'schedules only';
      expect(rendered).toContain(`| \`${definition.type}\` | ${enqueuedBy} |`);
    }
  });

  it('reads the payload fields, their optionality and the unknown-field rule from the schema', () => {
    expect(describeJobType(jobTypes['webhook.deliver'])).toMatchObject({
      payloadFields: ['endpointId?', 'url?', 'body', 'headers?'],
      unknownFields: 'refused',
      attempts: 8,
      backoffMs: 2_000,
    });
    const payload = z.object({ a: z.int().default(1), b: z.string() });
    const defined = (p: z.ZodObject) =>
      defineJobType({
        type: 'test.fields',
        description: 'x',
        payload: p,
        result: z.null(),
        enqueueable: false,
        options,
      });
    expect(describeJobType(defined(payload))).toMatchObject({
      payloadFields: ['a?', 'b'],
      unknownFields: 'dropped',
    });
    expect(describeJobType(defined(payload.loose())).unknownFields).toBe('kept');
  });
});

import { ENQUEUEABLE_JOB_TYPES, isJobType, jobTypes } from '@repo/jobs';
import { describe, expect, it } from 'vitest';
import { createJobBody, createJobBodyByType } from './jobs.contract.ts';

/** What the router accepts: the body's shape, an enqueueable type, then its payload. */
function routerAccepts(body: unknown): boolean {
  const parsed = createJobBody.safeParse(body);
  if (!parsed.success || !isJobType(parsed.data.type)) return false;
  const type = jobTypes[parsed.data.type];
  return type.enqueueable && type.payload.safeParse(parsed.data.payload).success;
}

const inAnHour = new Date(Date.now() + 3_600_000).toISOString();

const bodies: unknown[] = [
  { type: 'system.echo', payload: {} },
  { type: 'system.echo', payload: { data: [1, { a: null }], delayMs: 10 }, runAt: inAnHour },
  { type: 'system.echo', payload: { delayMs: -1 } },
  { type: 'system.echo', payload: { unknown: true } },
  { type: 'system.echo', payload: {}, maxAttempts: 0 },
  { type: 'system.echo', payload: {}, extra: 1 },
  { type: 'system.echo' },
  { type: 'webhook.deliver', payload: { url: 'https://example.com/hook', body: { a: 1 } } },
  { type: 'webhook.deliver', payload: { url: 'ftp://example.com/', body: 1 } },
  { type: 'webhook.deliver', payload: { url: 'https://example.com/hook' } },
  { type: 'maintenance.prune', payload: {} },
  { type: 'no.such-type', payload: {} },
  { payload: {} },
  'not an object',
];

describe("POST /v1/jobs's body in the document", () => {
  it('has one member per job type clients may enqueue', () => {
    expect(createJobBodyByType.options.map((option) => option.shape.type.value).sort()).toEqual(
      [...ENQUEUEABLE_JOB_TYPES].sort(),
    );
  });

  it.each(bodies.map((body) => [JSON.stringify(body), body]))(
    'accepts %s exactly when the router does',
    (_name, body) => {
      expect(createJobBodyByType.safeParse(body).success).toBe(routerAccepts(body));
    },
  );

  it('accepts and refuses some of the samples (so the comparison means something)', () => {
    const accepted = bodies.filter(routerAccepts);
    expect(accepted.length).toBeGreaterThan(1);
    expect(accepted.length).toBeLessThan(bodies.length);
  });
});

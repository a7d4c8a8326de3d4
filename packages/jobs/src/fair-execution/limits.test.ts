import { describe, expect, it } from 'vitest';
import { UnknownJobTypeError } from '../errors.ts';
import { limitApplies, resolveJobLimits } from './limits.ts';

describe('resolveJobLimits', () => {
  it('lists the contract’s limits, and only the types that have one', () => {
    expect(resolveJobLimits()).toEqual({
      'webhook.deliver': { maxConcurrent: 0, maxConcurrentPerKey: 10, rateMax: 0, rateWindowMs: 0 },
    });
  });

  it('replaces each field JOB_LIMITS names, lifts one it sets to null, and keeps the others', () => {
    const limits = resolveJobLimits({
      'webhook.deliver': { maxConcurrent: 50, rateLimitPerKey: { max: 5, perSeconds: 2 } },
      'system.echo': { maxConcurrentPerKey: 2 },
    });
    expect(limits['webhook.deliver']).toEqual({
      maxConcurrent: 50,
      maxConcurrentPerKey: 10,
      rateMax: 5,
      rateWindowMs: 2_000,
    });
    expect(limits['system.echo']).toEqual({
      maxConcurrent: 0,
      maxConcurrentPerKey: 2,
      rateMax: 0,
      rateWindowMs: 0,
    });
    expect(resolveJobLimits({ 'webhook.deliver': { maxConcurrentPerKey: null } })).toEqual({});
  });

  it('refuses an override of a type that does not exist, which would otherwise limit nothing', () => {
    expect(() => resolveJobLimits({ 'webhook.delivr': { maxConcurrent: 1 } })).toThrow(
      UnknownJobTypeError,
    );
  });
});

describe('limitApplies', () => {
  const limits = resolveJobLimits({
    'system.echo': { maxConcurrent: 3 },
    'webhook.deliver': { maxConcurrentPerKey: null, rateLimitPerKey: { max: 1, perSeconds: 1 } },
  });

  it('applies a type’s maxConcurrent to every job of the type, key or not', () => {
    expect(limitApplies(limits, 'system.echo', null)).toBe(true);
    expect(limitApplies(limits, 'system.echo', 'tenant-1')).toBe(true);
  });

  it('applies a limit per key (concurrency or rate) only to a job with a key', () => {
    expect(limitApplies(limits, 'webhook.deliver', 'tenant-1')).toBe(true);
    expect(limitApplies(limits, 'webhook.deliver', null)).toBe(false);
    const perKey = resolveJobLimits();
    expect(limitApplies(perKey, 'webhook.deliver', 'tenant-1')).toBe(true);
    expect(limitApplies(perKey, 'webhook.deliver', null)).toBe(false);
  });

  it('applies nothing to a type without limits, or to a name that is no job type', () => {
    expect(limitApplies(limits, 'maintenance.prune', 'tenant-1')).toBe(false);
    expect(limitApplies(limits, 'no.such-type', 'tenant-1')).toBe(false);
    expect(limitApplies({}, 'system.echo', 'tenant-1')).toBe(false);
  });
});

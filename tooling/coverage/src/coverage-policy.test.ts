import { describe, expect, it } from 'vitest';
import { COVERAGE_POLICY, type CoveragePolicy, policyFailures } from './coverage-policy.ts';

const policy: CoveragePolicy = {
  overall: { lines: 85, branches: 80 },
  floors: { 'apps/api': { lines: 80, branches: 75 }, 'packages/db': { lines: 90, branches: 85 } },
  lowestFloor: 70,
};
const passing = {
  'apps/api': { lines: 80, branches: 75 },
  'packages/db': { lines: 95, branches: 90 },
};

describe('policyFailures', () => {
  it('passes figures at or above every threshold', () => {
    expect(policyFailures(policy, { lines: 85, branches: 80 }, passing)).toEqual([]);
  });

  it('fails the whole below its lines or branches threshold', () => {
    expect(policyFailures(policy, { lines: 84.99, branches: 80 }, passing)).toEqual([
      'product code as a whole: lines 84.99 % is below 85 %',
    ]);
    expect(policyFailures(policy, { lines: 90, branches: 79.5 }, passing)).toEqual([
      'product code as a whole: branches 79.50 % is below 80 %',
    ]);
  });

  it('fails a package below its floor even when the whole passes', () => {
    const failures = policyFailures(
      policy,
      { lines: 95, branches: 95 },
      { ...passing, 'packages/db': { lines: 89, branches: 85 } },
    );
    expect(failures).toEqual(['packages/db: lines 89.00 % is below 90 %']);
  });

  it('fails a measured package that has no floor, and a floor with nothing measured', () => {
    const failures = policyFailures(
      policy,
      { lines: 95, branches: 95 },
      { 'apps/api': passing['apps/api'], 'packages/new': { lines: 100, branches: 100 } },
    );
    expect(failures).toEqual([
      'packages/db: has a floor but no measured code',
      'packages/new: has no floor (add one to tooling/coverage/src/coverage-policy.ts)',
    ]);
  });

  it('refuses a floor below the lowest allowed', () => {
    const lax = {
      ...policy,
      floors: { ...policy.floors, 'apps/api': { lines: 60, branches: 75 } },
    };
    expect(policyFailures(lax, { lines: 95, branches: 95 }, passing)).toEqual([
      'apps/api: its lines floor 60 % is below the lowest allowed, 70 %',
    ]);
  });

  it("the project's policy asks at least 85 % lines and 80 % branches, and no floor below 70 %", () => {
    expect(COVERAGE_POLICY.overall.lines).toBeGreaterThanOrEqual(85);
    expect(COVERAGE_POLICY.overall.branches).toBeGreaterThanOrEqual(80);
    expect(COVERAGE_POLICY.lowestFloor).toBeGreaterThanOrEqual(70);
    expect(Object.keys(COVERAGE_POLICY.floors).length).toBeGreaterThan(0);
    expect(policyFailures(COVERAGE_POLICY, { lines: 100, branches: 100 }, {})).not.toContainEqual(
      expect.stringContaining('below the lowest allowed'),
    );
  });
});

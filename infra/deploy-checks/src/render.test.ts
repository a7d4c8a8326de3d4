import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadRender } from './load.ts';
import { parseRenderBlueprint, RENDER_BLUEPRINT, readRenderBlueprint } from './render.ts';
import { assertNoProblems, formatProblem } from './targets.ts';

describe(RENDER_BLUEPRINT, () => {
  it('conforms to the Blueprint schema of the fields it uses', () => {
    assertNoProblems(parseRenderBlueprint(readRenderBlueprint()).problems);
  });

  it('follows the Render rules: Key Value noeviction and private, one region, wired references', () => {
    assertNoProblems(loadRender().problems);
  });

  it('describes the api, worker and beat, and the migrate step of the api', () => {
    const names = loadRender().targets.map((t) => `${t.name}:${t.service}`);
    expect(names).toEqual([
      'jobstack-api:api',
      'jobstack-api (preDeployCommand):migrate',
      'jobstack-worker:worker',
      'jobstack-beat:beat',
    ]);
  });
});

describe('the Render schema', () => {
  const valid = readRenderBlueprint() as { services: Record<string, unknown>[] };
  const withService = (change: (s: Record<string, unknown>) => void) => {
    const copy = structuredClone(valid);
    change(copy.services[0] as Record<string, unknown>);
    return parseRenderBlueprint(copy, 'copy.yaml').problems.map(formatProblem).join('\n');
  };

  it('rejects deprecated keys', () => {
    expect(withService((s) => Object.assign(s, { autoDeploy: true }))).toMatch(/autoDeploy/);
    expect(withService((s) => Object.assign(s, { env: 'docker' }))).toMatch(/env/);
    const redis = parseRenderBlueprint(
      parse('services:\n  - type: redis\n    name: r\n    ipAllowList: []\n'),
      'copy.yaml',
    );
    expect(redis.problems.length).toBeGreaterThan(0);
  });

  it('rejects out-of-range and misspelt values', () => {
    expect(withService((s) => Object.assign(s, { maxShutdownDelaySeconds: 301 }))).toMatch(
      /maxShutdownDelaySeconds/,
    );
    expect(withService((s) => Object.assign(s, { healthcheckPath: '/health' }))).toMatch(
      /healthcheckPath/,
    );
    expect(withService((s) => Object.assign(s, { autoDeployTrigger: 'always' }))).toMatch(
      /autoDeployTrigger/,
    );
  });

  it('keeps secrets prompted with sync: false out of environment groups', () => {
    const copy = structuredClone(valid) as unknown as { envVarGroups: { envVars: unknown[] }[] };
    copy.envVarGroups[0]?.envVars.push({ key: 'API_KEYS', sync: false });
    expect(parseRenderBlueprint(copy).problems.length).toBeGreaterThan(0);
  });
});

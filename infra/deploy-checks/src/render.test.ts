import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadRender } from './load.ts';
import { parseRenderBlueprint, RENDER_BLUEPRINT, readRenderBlueprint } from './render.ts';
import { deployableApps } from './repo.ts';
import { assertNoProblems, formatProblem } from './targets.ts';

describe(RENDER_BLUEPRINT, () => {
  it('conforms to the Blueprint schema of the fields it uses', () => {
    assertNoProblems(parseRenderBlueprint(readRenderBlueprint()).problems);
  });

  it('follows the Render rules: Key Value noeviction and private, one region, wired references', () => {
    assertNoProblems(loadRender().problems);
  });

  it('describes every app, and the migrate steps of the api and the worker', () => {
    const names = loadRender().targets.map((t) => `${t.name}:${t.service}`);
    expect(names.filter((name) => !name.endsWith(':migrate')).sort()).toEqual(
      deployableApps()
        .map((app) => `jobstack-${app.name}:${app.name}`)
        .sort(),
    );
    expect(names.filter((name) => name.endsWith(':migrate'))).toEqual([
      'jobstack-api (preDeployCommand):migrate',
      'jobstack-worker (preDeployCommand):migrate',
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

// Values the platform refuses, each in an otherwise valid copy of the Blueprint: the schema must
// fail on them here rather than on Render when the Blueprint is applied.
describe('the Render schema refuses what Render refuses', () => {
  type Doc = {
    services: Record<string, unknown>[];
    databases: Record<string, unknown>[];
    envVarGroups: { name: string; envVars: unknown[] }[];
  };
  const problems = (change: (doc: Doc) => void) => {
    const copy = structuredClone(readRenderBlueprint()) as Doc;
    change(copy);
    return parseRenderBlueprint(copy, 'copy.yaml').problems.map(formatProblem).join('\n');
  };
  const byType = (doc: Doc, type: string) => {
    const found = doc.services.find((s) => s.type === type);
    if (!found) throw new Error(`no ${type} service in the Blueprint`);
    return found;
  };

  it('a free background worker (workers have no free instance type)', () => {
    expect(problems((doc) => Object.assign(byType(doc, 'worker'), { plan: 'free' }))).toMatch(
      /services\.\d+\.plan/,
    );
    expect(problems((doc) => Object.assign(byType(doc, 'web'), { plan: 'free' }))).toBe('');
  });

  it('a Key Value plan Key Value does not offer', () => {
    for (const plan of ['pro max', 'pro ultra']) {
      expect(problems((doc) => Object.assign(byType(doc, 'keyvalue'), { plan }))).toMatch(
        /services\.\d+\.plan/,
      );
    }
    expect(problems((doc) => Object.assign(byType(doc, 'keyvalue'), { plan: 'pro plus' }))).toBe(
      '',
    );
  });

  it('a disk size that is neither 1 nor a multiple of 5', () => {
    const withDisk = (diskSizeGB: number) =>
      problems((doc) => Object.assign(doc.databases[0] ?? {}, { diskSizeGB }));
    expect(withDisk(7)).toMatch(/diskSizeGB: must be 1 or a multiple of 5/);
    expect(withDisk(0)).toMatch(/diskSizeGB/);
    expect(withDisk(1)).toBe('');
    expect(withDisk(15)).toBe('');
  });

  it('a Postgres plan that does not exist, even in the shape of one that does', () => {
    const withPlan = (plan: string) =>
      problems((doc) => Object.assign(doc.databases[0] ?? {}, { plan }));
    expect(withPlan('pro-3gb')).toMatch(/"pro-3gb" is not a current Postgres plan/);
    expect(withPlan('accelerated-8gb')).toMatch(/not a current Postgres plan/);
    expect(withPlan('basic-512mb')).toMatch(/not a current Postgres plan/);
    expect(withPlan('pro-8gb')).toBe('');
    expect(withPlan('accelerated-1024gb')).toBe('');
  });

  it('accepts an environment group with no variables yet', () => {
    expect(
      problems((doc) => {
        doc.envVarGroups.push({ name: 'filled-in-later', envVars: [] });
      }),
    ).toBe('');
  });
});

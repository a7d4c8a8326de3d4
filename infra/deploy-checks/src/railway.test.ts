import { describe, expect, it } from 'vitest';
import { loadRailway } from './load.ts';
import {
  parseRailwayConfig,
  parseRailwayVariables,
  RAILWAY_VARIABLES,
  railwayConfigFiles,
  readJson,
} from './railway.ts';
import { deployableApps } from './repo.ts';
import { assertNoProblems, formatProblem } from './targets.ts';

describe('infra/railway', () => {
  it('has one config file per app', () => {
    expect(railwayConfigFiles()).toEqual(
      deployableApps().map((app) => `infra/railway/${app.name}.json`),
    );
  });

  it.each(railwayConfigFiles())(
    '%s conforms to the config-as-code schema of the fields it uses',
    (file) => {
      assertNoProblems(parseRailwayConfig(readJson(file), file).problems);
    },
  );

  it(`${RAILWAY_VARIABLES} conforms to its schema`, () => {
    assertNoProblems(parseRailwayVariables(readJson(RAILWAY_VARIABLES)).problems);
  });

  it('follows the Railway rules: Dockerfile builder, draining time, references that resolve', () => {
    assertNoProblems(loadRailway().problems);
  });
});

describe('the Railway schema', () => {
  const api = readJson('infra/railway/api.json') as { deploy: Record<string, unknown> };

  it('rejects draining and overlap seconds written as strings, which Railway refuses', () => {
    const copy = structuredClone(api);
    copy.deploy.drainingSeconds = '40';
    const problems = parseRailwayConfig(copy, 'copy.json').problems.map(formatProblem);
    expect(problems.join('\n')).toMatch(/drainingSeconds/);
  });

  it('rejects unknown keys', () => {
    const copy = structuredClone(api);
    copy.deploy.healthCheckPath = '/health';
    expect(parseRailwayConfig(copy, 'copy.json').problems.length).toBeGreaterThan(0);
  });
});

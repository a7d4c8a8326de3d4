import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { startServiceProcess } from './service-process.ts';

// Runs Vitest, with the kinds config, on the fixture tests in fixtures/kinds and reads back what
// passed and failed: the configuration is what keeps the kinds apart, so it is what is tested.

const fixtures = fileURLToPath(new URL('../fixtures/kinds/', import.meta.url));
const vitestBin = join(
  createRequire(import.meta.url).resolve('vitest/package.json'),
  '../vitest.mjs',
);
const scratch = mkdtempSync(join(tmpdir(), 'vitest-kinds-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Outcome {
  /** file (relative to the fixtures) → test name → passed/failed */
  results: Record<string, Record<string, string>>;
  messages: string;
}

async function runVitest(args: string[], env: Record<string, string> = {}): Promise<Outcome> {
  const report = join(scratch, `report-${Math.random().toString(36).slice(2)}.json`);
  const vitest = startServiceProcess(
    vitestBin,
    { ...env, CI: 'true' },
    {
      nodeArgs: [],
      args: ['run', '--root', fixtures, '--reporter=json', `--outputFile=${report}`, ...args],
    },
  );
  await vitest.exited;
  const json = JSON.parse(readFileSync(report, 'utf8')) as {
    testResults: {
      name: string;
      message: string;
      assertionResults: { title: string; status: string; failureMessages: string[] }[];
    }[];
  };
  const results: Outcome['results'] = {};
  let messages = '';
  for (const file of json.testResults) {
    const tests: Record<string, string> = {};
    for (const test of file.assertionResults) {
      tests[test.title] = test.status;
      messages += test.failureMessages.join('\n');
    }
    results[file.name.slice(fixtures.length)] = tests;
    messages += file.message;
  }
  return { results, messages };
}

describe('the test kinds (Vitest on fixture tests)', () => {
  it('the unit kind runs unit-named files only, and one that reaches PostgreSQL or Redis fails', async () => {
    const { results, messages } = await runVitest([
      '--project',
      'unit',
      'src/reaches-',
      'src/pure',
    ]);
    expect(results).toEqual({
      'src/pure.test.ts': { adds: 'passed' },
      'src/reaches-postgres.test.ts': { 'creates a database': 'failed' },
      'src/reaches-redis.test.ts': { 'pings Redis': 'failed' },
    });
    expect(messages).toContain('ECONNREFUSED');
  });

  it('the unit kind refuses the services even when TEST_DATABASE_URL and TEST_REDIS_URL are set', async () => {
    const { results } = await runVitest(['--project', 'unit', 'src/reaches-'], {
      TEST_DATABASE_URL:
        process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
      TEST_REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    });
    expect(results).toEqual({
      'src/reaches-postgres.test.ts': { 'creates a database': 'failed' },
      'src/reaches-redis.test.ts': { 'pings Redis': 'failed' },
    });
  });

  it('puts each file in the kind its name says, and no file in two kinds', async () => {
    const listing = join(scratch, 'list.json');
    const vitest = startServiceProcess(
      vitestBin,
      { CI: 'true' },
      { nodeArgs: [], args: ['list', '--root', fixtures, '--filesOnly', `--json=${listing}`] },
    );
    expect(await vitest.exited, vitest.stderr()).toBe(0);
    const files = JSON.parse(readFileSync(listing, 'utf8')) as {
      file: string;
      projectName: string;
    }[];
    expect(files.map((f) => `${f.projectName}: ${f.file.slice(fixtures.length)}`).sort()).toEqual([
      'postgres: src/reaches-postgres.postgres.test.ts',
      'unit: src/leaves-processes.test.ts',
      'unit: src/pure.test.ts',
      'unit: src/reaches-postgres.test.ts',
      'unit: src/reaches-redis.test.ts',
    ]);
  });

  it('kills the processes a test started when it fails or times out, and the rest when the file ends', async () => {
    const pids = mkdtempSync(join(scratch, 'pids-'));
    const { results } = await runVitest(['--project', 'unit', 'src/leaves-processes'], {
      FIXTURE_PID_DIR: pids,
    });
    expect(results).toEqual({
      'src/leaves-processes.test.ts': {
        'fails with a process of its own still running': 'failed',
        'times out with a process of its own still running': 'failed',
        'finds the processes of the failed tests gone, and the beforeAll one still running':
          'passed',
      },
    });
    const pid = Number(readFileSync(join(pids, 'before-all'), 'utf8'));
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  });
});

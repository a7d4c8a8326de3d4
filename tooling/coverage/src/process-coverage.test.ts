import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServiceProcess } from '@repo/testing';
import { processCoverageDir, TEST_COVERAGE_DIR } from '@repo/testing/coverage';
import libCoverage, { type FileCoverageData } from 'istanbul-lib-coverage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCountsByStart } from './merge-by-start.ts';
import { processCoverageToIstanbul, readProcessCoverage } from './process-coverage.ts';

// Runs a TypeScript fixture as real processes, the way tests run the apps, in a coverage run, and
// reads back what their coverage says ran.

const fixture = fileURLToPath(new URL('../fixtures/branches.ts', import.meta.url));
const text = readFileSync(fixture, 'utf8');
const lineOf = (snippet: string) => text.slice(0, text.indexOf(snippet)).split('\n').length;
const coverageDir = mkdtempSync(join(tmpdir(), 'process-coverage-'));
const previous = process.env[TEST_COVERAGE_DIR];

beforeAll(async () => {
  process.env[TEST_COVERAGE_DIR] = coverageDir;
  try {
    for (const args of [['loud'], []]) {
      const run = startServiceProcess(fixture, {}, { nodeArgs: [], args });
      expect(await run.exited).toBe(0);
    }
  } finally {
    if (previous === undefined) delete process.env[TEST_COVERAGE_DIR];
    else process.env[TEST_COVERAGE_DIR] = previous;
  }
});
afterAll(() => rmSync(coverageDir, { recursive: true, force: true }));

/** The fixture's coverage, merged over the processes, as Istanbul data. */
async function fixtureCoverage(): Promise<FileCoverageData> {
  const { scripts } = await readProcessCoverage(
    processCoverageDir(coverageDir),
    (path) => path === fixture,
  );
  const script = scripts.get(fixture);
  if (!script) throw new Error('no coverage of the fixture');
  const data = await processCoverageToIstanbul(fixture, text, script);
  if (!data) throw new Error('the fixture converted to nothing');
  return data;
}

describe('process coverage', () => {
  it('every process started in a coverage run writes its V8 coverage', async () => {
    const { scripts, processes } = await readProcessCoverage(
      processCoverageDir(coverageDir),
      (path) => path === fixture,
    );
    expect(processes).toBe(2);
    expect([...scripts.keys()]).toEqual([fixture]);
  });

  it('converts to Istanbul counts at the TypeScript source lines, summed over the processes', async () => {
    const file = libCoverage.createFileCoverage(await fixtureCoverage());
    const lines = file.getLineCoverage();
    // six greetings, three loud, three quiet
    expect(lines[lineOf('if (options.loud)')]).toBe(6);
    expect(lines[lineOf('return `HELLO')]).toBe(3);
    expect(lines[lineOf('return `hello')]).toBe(3);
    expect(lines[lineOf('return (value as number)')]).toBe(0);
    const functions = Object.values(file.fnMap).map((fn, index) => [
      fn.name,
      file.f[String(index)],
    ]);
    expect(functions).toEqual([
      ['greet', 6],
      ['neverCalled', 0],
    ]);
    expect(Object.values(file.b)).toEqual([[3, 3]]);
  });

  it('adds onto a conversion of the same file with nothing unmatched', async () => {
    const target = await fixtureCoverage();
    const source = await fixtureCoverage();
    expect(addCountsByStart(target, source, text)).toBe(0);
    expect(Object.values(target.f)).toEqual([12, 0]);
  });
});

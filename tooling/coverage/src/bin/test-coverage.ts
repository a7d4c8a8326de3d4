// `pnpm test:coverage`: `pnpm test` (every package's suite, the same kinds) with coverage of the
// product code (apps/*/src, packages/*/src), the processes the tests start included; merges it
// all into one report in coverage/ (index.html, lcov.info, coverage-summary.json); prints the
// figures and fails when a suite fails or the figures fall below the policy (coverage-policy.ts).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { processCoverageDir, REPOSITORY_ROOT, TEST_COVERAGE_DIR } from '@repo/testing/coverage';
import { COVERAGE_POLICY, type Figures, policyFailures } from '../coverage-policy.ts';
import { mergeCoverage, packageSummaries } from '../merged-coverage.ts';
import { summaryTable, writeReports } from '../reports.ts';

const reportDir = join(REPOSITORY_ROOT, 'coverage');
const dataDir = join(reportDir, '.data');
const out = (line: string) => process.stdout.write(`${line}\n`);

await rm(reportDir, { recursive: true, force: true });
await mkdir(dataDir, { recursive: true });

// --force: a cached result would bring back no coverage data; --continue: one failing suite
// still leaves the others' figures
const suites = spawn(
  'turbo',
  ['run', 'test', '--concurrency=2', '--force', '--continue', ...process.argv.slice(2)],
  { stdio: 'inherit', env: { ...process.env, [TEST_COVERAGE_DIR]: dataDir } },
);
const [suitesExit] = (await once(suites, 'exit')) as [number | null];

const merged = await mergeCoverage(join(dataDir, 'vitest'), processCoverageDir(dataDir));
writeReports(reportDir, merged.map);
const packages = packageSummaries(REPOSITORY_ROOT, merged.map);
const all = merged.map.getCoverageSummary();

out('');
out(
  `coverage: ${merged.suites} suites, ${merged.processes} processes started by tests; report: coverage/index.html`,
);
out(summaryTable(packages, all));
if (merged.unmatched > 0) {
  out(`coverage: ${merged.unmatched} process-coverage entries matched no statement (not counted)`);
}

const figures = (summary: typeof all): Figures => ({
  lines: summary.lines.pct,
  branches: summary.branches.pct,
});
const failures = policyFailures(
  COVERAGE_POLICY,
  figures(all),
  Object.fromEntries([...packages].map(([name, summary]) => [name, figures(summary)])),
);
for (const failure of failures) process.stderr.write(`coverage: ${failure}\n`);
if (suitesExit !== 0)
  process.stderr.write(`coverage: the test suites failed (exit ${suitesExit})\n`);
process.exitCode = failures.length > 0 || suitesExit !== 0 ? 1 : 0;

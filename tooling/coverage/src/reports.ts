import type { CoverageMap, CoverageSummary } from 'istanbul-lib-coverage';
import libReport from 'istanbul-lib-report';
import reports from 'istanbul-reports';

/** The HTML report (index.html), lcov.info and coverage-summary.json in `dir`. */
export function writeReports(dir: string, coverageMap: CoverageMap): void {
  const context = libReport.createContext({ dir, coverageMap, defaultSummarizer: 'nested' });
  for (const report of ['html', 'lcovonly', 'json-summary'] as const) {
    reports.create(report).execute(context);
  }
}

/** A Markdown table, one row per package and one for the whole, as the README shows it. */
export function summaryTable(packages: Map<string, CoverageSummary>, all: CoverageSummary): string {
  const pct = (covered: number, total: number) =>
    total === 0 ? '—' : `${((100 * covered) / total).toFixed(1)} %`;
  const row = (name: string, summary: CoverageSummary) =>
    `| ${name} | ${pct(summary.lines.covered, summary.lines.total)} | ${pct(summary.branches.covered, summary.branches.total)} | ${pct(summary.functions.covered, summary.functions.total)} | ${summary.lines.total} |`;
  return [
    '| Package | Lines | Branches | Functions | Lines measured |',
    '| --- | --- | --- | --- | --- |',
    ...[...packages].map(([name, summary]) => row(name, summary)),
    row('**all product code**', all),
  ].join('\n');
}

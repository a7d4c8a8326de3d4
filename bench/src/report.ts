// `pnpm bench:report`: writes BENCHMARKS.md at the repository root from bench/results/*.json and
// bench/findings.md.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { paths } from './lib/paths.ts';
import { BENCH_ORDER, renderReport } from './lib/report.ts';
import { readResults } from './lib/result.ts';

const findingsFile = `${paths.root}bench/findings.md`;
const results = readResults(BENCH_ORDER);
const findings = existsSync(findingsFile) ? readFileSync(findingsFile, 'utf8') : '';
writeFileSync(paths.benchmarksMd, renderReport(results, findings));
process.stdout.write(
  `wrote ${paths.benchmarksMd} from ${results.length} result(s): ${results.map((r) => r.bench).join(', ') || 'none'}\n`,
);

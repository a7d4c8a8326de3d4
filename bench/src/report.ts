// `pnpm bench:report`: writes BENCHMARKS.md at the repository root from bench/results/*.json and
// bench/findings.md.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { paths } from './lib/paths.ts';
import { BENCH_ORDER, renderReport } from './lib/report.ts';
import { readResults } from './lib/result.ts';

const findingsFile = `${paths.root}bench/findings.md`;
const results = readResults(BENCH_ORDER);
const findings = existsSync(findingsFile) ? readFileSync(findingsFile, 'utf8') : '';
writeFileSync(paths.benchmarksMd, renderReport(results, findings));
// the repository's formatter aligns the tables, so the file stays Biome clean
const formatted = spawnSync('pnpm', ['exec', 'biome', 'format', '--write', paths.benchmarksMd], {
  cwd: paths.root,
  encoding: 'utf8',
});
if (formatted.status !== 0) {
  console.error(`biome format BENCHMARKS.md failed:\n${formatted.stderr}${formatted.stdout}`);
  process.exit(1);
}
process.stdout.write(
  `wrote ${paths.benchmarksMd} from ${results.length} result(s): ${results.map((r) => r.bench).join(', ') || 'none'}\n`,
);

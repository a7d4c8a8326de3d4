// `pnpm bench [http|jobs|startup|shutdown|tracing|images ...] [--quick]`: runs the benchmarks (all by
// default), prints each one's table and writes bench/results/<bench>.json. The root script builds
// the apps first: the benchmarks run the production build (apps/*/dist).
import { existsSync } from 'node:fs';
import { httpBench } from './benches/http.ts';
import { imagesBench } from './benches/images.ts';
import { jobsBench } from './benches/jobs.ts';
import { shutdownBench } from './benches/shutdown.ts';
import { startupBench } from './benches/startup.ts';
import { tracingBench } from './benches/tracing.ts';
import type { BenchDefinition } from './benches/types.ts';
import { machineInfo } from './lib/machine.ts';
import { APPS, paths } from './lib/paths.ts';
import { type BenchResult, renderTable, writeResult } from './lib/result.ts';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from './lib/stack.ts';

export const BENCHES: readonly BenchDefinition[] = [
  { name: 'http', title: 'HTTP throughput and latency', run: httpBench },
  { name: 'jobs', title: 'Job throughput and latency', run: jobsBench },
  { name: 'startup', title: 'Start-up time', run: startupBench },
  { name: 'shutdown', title: 'Shutdown time', run: shutdownBench },
  { name: 'tracing', title: 'Tracing overhead (OpenTelemetry on / off)', run: tracingBench },
  { name: 'images', title: 'Image sizes and build times', run: imagesBench },
];

const print = (line = '') => process.stdout.write(`${line}\n`);

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const wanted = args.filter((a) => !a.startsWith('--'));
const unknown = wanted.filter((name) => !BENCHES.some((b) => b.name === name));
if (unknown.length > 0) {
  console.error(
    `unknown bench: ${unknown.join(', ')} (known: ${BENCHES.map((b) => b.name).join(', ')})`,
  );
  process.exit(2);
}
const missing = APPS.filter((app) => !existsSync(paths.dist(app)));
if (missing.length > 0) {
  console.error(
    `no production build of ${missing.join(', ')}: run \`pnpm bench\` from the repository root (it builds first) or \`pnpm turbo run build\``,
  );
  process.exit(2);
}

let failed = 0;
for (const bench of BENCHES.filter((b) => wanted.length === 0 || wanted.includes(b.name))) {
  print(`\n=== ${bench.title} (${bench.name})${quick ? ' — quick run' : ''}`);
  const startedAt = new Date();
  const started = performance.now();
  const machine = await machineInfo({ databaseUrl: TEST_DATABASE_URL, redisUrl: TEST_REDIS_URL });
  const notes: string[] = [];
  try {
    const output = await bench.run({
      quick,
      log: (line) => print(line),
      note: (text) => notes.push(text),
    });
    const result: BenchResult = {
      bench: bench.name,
      title: bench.title,
      startedAt: startedAt.toISOString(),
      durationMs: Math.round(performance.now() - started),
      machine,
      settings: { ...output.settings, quick },
      figures: output.figures,
      notes: [...output.notes, ...notes],
    };
    print();
    print(renderTable(result.figures));
    for (const note of result.notes) print(`note: ${note}`);
    const missed = result.figures.filter((f) => f.met === false);
    if (missed.length > 0) {
      print(`targets missed: ${missed.map((f) => `${f.subject} ${f.metric}`).join('; ')}`);
    }
    print(`wrote ${writeResult(result)} (${(result.durationMs / 1000).toFixed(0)} s)`);
  } catch (error) {
    failed += 1;
    console.error(`${bench.name} failed:`, error);
  }
}
process.exit(failed > 0 ? 1 : 0);

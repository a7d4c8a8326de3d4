import type { MachineInfo } from './machine.ts';
import { type BenchResult, describeTarget, type Figure, verdict } from './result.ts';
import { formatNumber } from './stats.ts';

export const BENCH_ORDER = ['http', 'jobs', 'startup', 'shutdown', 'images'] as const;

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

function figureRow(f: Figure): string {
  const value = `${formatNumber(f.value)} ${f.unit}`.trim();
  const baseline = f.baseline
    ? `${formatNumber(f.baseline.value)} ${f.unit} (${f.baseline.name})`
    : '';
  const ratio = f.ratio === undefined ? '' : f.ratio === null ? '—' : `${f.ratio.toFixed(2)}×`;
  const target = describeTarget(f.target, f.unit);
  const met = verdict(f);
  return `| ${[f.subject, f.metric, value, baseline, ratio, target, met === 'MISSED' ? '**missed**' : met].map(cell).join(' | ')} |`;
}

const TABLE_HEAD = [
  '| Subject | Metric | Value | Baseline (same run) | Ratio | Target | |',
  '| --- | --- | --- | --- | --- | --- | --- |',
];

function machineLines(machine: MachineInfo): string[] {
  const packages = Object.entries(machine.packages)
    .map(([name, version]) => `${name} ${version}`)
    .join(', ');
  return [
    `- Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB, ${machine.os} (shared with other work: load average ${machine.loadAverage} when the bench started)`,
    `- Node ${machine.node}, pnpm ${machine.pnpm ?? '?'}, PostgreSQL ${machine.postgres ?? '?'}, Redis ${machine.redis ?? '?'}, Docker ${machine.docker ?? 'none'}`,
    `- Libraries: ${packages}`,
    `- Code: ${machine.gitRevision ?? '?'}${machine.gitDirty ? ' with uncommitted changes' : ''}`,
  ];
}

/** BENCHMARKS.md from the latest result of each bench and the hand-written findings. */
export function renderReport(results: readonly BenchResult[], findings: string): string {
  const lines: string[] = [
    '# Benchmarks',
    '',
    '<!-- Written by `pnpm bench:report` from bench/results/*.json (the latest `pnpm bench` run of each benchmark) and bench/findings.md. Do not edit by hand. -->',
    '',
    'Every figure is measured next to its baseline in the same run on the same machine, because absolute numbers on these shared 2-core machines drift from one minute to the next; compare ratios, not absolute numbers, across runs. `pnpm bench [http|jobs|startup|shutdown|tracing|images] [--quick]` runs them (it builds the apps first and benchmarks the production build); `pnpm bench:report` rewrites this file.',
    '',
  ];
  if (results.length === 0) {
    lines.push('No results yet: run `pnpm bench`.', '');
    return lines.join('\n');
  }
  const targets = results.flatMap((r) => r.figures.filter((f) => f.target !== undefined));
  lines.push('## Targets', '', ...TABLE_HEAD, ...targets.map(figureRow), '');
  for (const result of results) {
    lines.push(
      `## ${result.title} (\`pnpm bench ${result.bench}\`)`,
      '',
      `Run ${result.startedAt.replace('T', ' ').slice(0, 16)} UTC, ${Math.round(result.durationMs / 1000)} s${result.settings.quick ? ' — a quick run, not representative' : ''}.`,
      '',
      ...machineLines(result.machine),
      '',
    );
    if (result.figures.length > 0) lines.push(...TABLE_HEAD, ...result.figures.map(figureRow), '');
    for (const note of result.notes) lines.push(`- ${note}`);
    lines.push('');
  }
  if (findings.trim()) lines.push(findings.trim(), '');
  return lines.join('\n');
}

import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MachineInfo } from './machine.ts';
import { paths } from './paths.ts';
import { formatNumber, ratio } from './stats.ts';

/**
 * A target a figure is held to. `of: 'ratio'` compares figure/baseline, `of: 'value'` the figure
 * itself (in its unit).
 */
export interface Target {
  of: 'ratio' | 'value';
  op: '>=' | '<=';
  value: number;
}

export interface Figure {
  /** What was measured, e.g. "GET /health/live". */
  subject: string;
  /** e.g. "req/s", "p99 latency". */
  metric: string;
  unit: string;
  /** null when it could not be measured (the note says why). */
  value: number | null;
  baseline?: { name: string; value: number | null };
  /** value / baseline.value */
  ratio?: number | null;
  target?: Target;
  /** Whether the target is met; absent without a target, null when it could not be judged. */
  met?: boolean | null;
  note?: string;
}

export interface BenchResult {
  bench: string;
  title: string;
  startedAt: string;
  durationMs: number;
  machine: MachineInfo;
  settings: Record<string, unknown>;
  figures: Figure[];
  /** Things a reader must know: what was skipped and why, how a figure was taken. */
  notes: string[];
}

export function figure(
  input: Omit<Figure, 'ratio' | 'met'> & { target?: Target | undefined },
): Figure {
  const result: Figure = { ...input };
  if (input.target === undefined) delete result.target;
  if (input.baseline) result.ratio = ratio(input.value, input.baseline.value);
  if (input.target) result.met = judge(input.target, result);
  return result;
}

function judge(target: Target, f: Figure): boolean | null {
  const actual = target.of === 'ratio' ? (f.ratio ?? null) : f.value;
  if (actual === null || Number.isNaN(actual)) return null;
  return target.op === '>=' ? actual >= target.value : actual <= target.value;
}

export function describeTarget(target: Target | undefined, unit = ''): string {
  if (!target) return '';
  const op = target.op === '>=' ? '≥' : '≤';
  return target.of === 'ratio'
    ? `${op} ${target.value}× baseline`
    : `${op} ${formatNumber(target.value)}${unit ? ` ${unit}` : ''}`;
}

export function verdict(f: Figure): string {
  if (f.met === undefined) return '';
  if (f.met === null) return 'n/a';
  return f.met ? 'met' : 'MISSED';
}

/** The figures as an aligned text table, for the terminal. */
export function renderTable(figures: readonly Figure[]): string {
  const header = ['subject', 'metric', 'value', 'baseline', 'ratio', 'target', ''];
  const rows = figures.map((f) => [
    f.subject,
    f.metric,
    `${formatNumber(f.value)} ${f.unit}`.trim(),
    f.baseline ? `${formatNumber(f.baseline.value)} ${f.unit} (${f.baseline.name})` : '',
    f.ratio === undefined ? '' : f.ratio === null ? '—' : `${f.ratio.toFixed(2)}×`,
    describeTarget(f.target, f.unit),
    verdict(f),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Writes bench/results/<bench>.json (the latest run, read by the report) and a dated copy. */
export function writeResult(result: BenchResult): string {
  mkdirSync(paths.results, { recursive: true });
  mkdirSync(join(paths.results, 'history'), { recursive: true });
  const json = `${JSON.stringify(result, null, 2)}\n`;
  const file = join(paths.results, `${result.bench}.json`);
  writeFileSync(file, json);
  const stamp = result.startedAt.replace(/[:.]/g, '-');
  writeFileSync(join(paths.results, 'history', `${result.bench}-${stamp}.json`), json);
  return file;
}

/** The latest result of every bench, in the order given (others after, by name). */
export function readResults(order: readonly string[]): BenchResult[] {
  let names: string[];
  try {
    names = readdirSync(paths.results).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  const results = names.map(
    (name) => JSON.parse(readFileSync(join(paths.results, name), 'utf8')) as BenchResult,
  );
  const rank = (bench: string) => {
    const index = order.indexOf(bench);
    return index === -1 ? order.length : index;
  };
  return results.sort((a, b) => rank(a.bench) - rank(b.bench) || a.bench.localeCompare(b.bench));
}

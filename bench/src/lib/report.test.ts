import { describe, expect, it } from 'vitest';
import type { MachineInfo } from './machine.ts';
import { renderReport } from './report.ts';
import { type BenchResult, figure, renderTable } from './result.ts';
import { formatNumber, median, percentile, ratio } from './stats.ts';

const machine: MachineInfo = {
  os: 'linux 6 x64',
  cpu: 'Test CPU',
  cores: 2,
  memoryGb: 24,
  loadAverage: 0.5,
  node: 'v24.21.0',
  pnpm: '12.21.0',
  postgres: '15.8',
  redis: '7.0.15',
  docker: null,
  gitRevision: 'abc123',
  gitDirty: false,
  packages: { express: '5.3.0' },
};

describe('statistics', () => {
  it('takes nearest-rank percentiles and medians without sorting the input in place', () => {
    const samples = [5, 1, 4, 2, 3];
    expect(percentile(samples, 0.5)).toBe(3);
    expect(percentile(samples, 0.99)).toBe(5);
    expect(percentile(samples, 0)).toBe(1);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(samples).toEqual([5, 1, 4, 2, 3]);
    expect(percentile([], 0.5)).toBeNaN();
  });

  it('has no ratio without both figures or with a zero baseline', () => {
    expect(ratio(50, 100)).toBe(0.5);
    expect(ratio(null, 100)).toBeNull();
    expect(ratio(5, 0)).toBeNull();
    expect(ratio(Number.NaN, 1)).toBeNull();
  });

  it('formats figures for tables', () => {
    expect(formatNumber(12_345.6)).toBe('12,346');
    expect(formatNumber(123.4)).toBe('123');
    expect(formatNumber(12.34)).toBe('12.3');
    expect(formatNumber(1.234)).toBe('1.23');
    expect(formatNumber(null)).toBe('—');
  });
});

describe('figures and targets', () => {
  it('judges a ratio target against the baseline', () => {
    const met = figure({
      subject: 'GET /health/live',
      metric: 'throughput',
      unit: 'req/s',
      value: 900,
      baseline: { name: 'bare', value: 1_000 },
      target: { of: 'ratio', op: '>=', value: 0.85 },
    });
    expect(met).toMatchObject({ ratio: 0.9, met: true });
    const missed = figure({ ...met, value: 800 });
    expect(missed).toMatchObject({ ratio: 0.8, met: false });
  });

  it('judges a value target on the figure itself, and cannot judge a missing figure', () => {
    const fast = figure({
      subject: 'api',
      metric: 'start',
      unit: 'ms',
      value: 450,
      target: { of: 'value', op: '<=', value: 1_000 },
    });
    expect(fast.met).toBe(true);
    expect(figure({ ...fast, value: null }).met).toBeNull();
    expect(figure({ subject: 'x', metric: 'y', unit: 'ms', value: 1 })).not.toHaveProperty('met');
  });

  it('prints a table with baseline, ratio, target and verdict', () => {
    const table = renderTable([
      figure({
        subject: 'queue path',
        metric: 'throughput',
        unit: 'jobs/s',
        value: 600,
        baseline: { name: 'bare BullMQ', value: 1_000 },
        target: { of: 'ratio', op: '>=', value: 0.7 },
      }),
    ]);
    expect(table).toContain('600 jobs/s');
    expect(table).toContain('1,000 jobs/s (bare BullMQ)');
    expect(table).toContain('0.60×');
    expect(table).toContain('≥ 0.7× baseline');
    expect(table).toContain('MISSED');
  });
});

describe('renderReport', () => {
  const result: BenchResult = {
    bench: 'startup',
    title: 'Start-up time',
    startedAt: '2026-11-23T10:00:00.000Z',
    durationMs: 12_000,
    machine,
    settings: { runs: 5, quick: false },
    figures: [
      figure({
        subject: 'api process',
        metric: 'start → ready',
        unit: 'ms',
        value: 1_200,
        baseline: { name: 'node:http', value: 100 },
        target: { of: 'value', op: '<=', value: 1_000 },
      }),
    ],
    notes: ['Containers: SKIPPED — no Docker engine.'],
  };

  it('lists every target, each bench with its machine and notes, and the findings', () => {
    const markdown = renderReport([result], '## Profiles and fixes\n\nfound things');
    expect(markdown).toContain('## Targets');
    expect(markdown).toContain(
      '| api process | start → ready | 1,200 ms | 100 ms (node:http) | 12.00× | ≤ 1,000 ms | **missed** |',
    );
    expect(markdown).toContain('Test CPU, 2 cores, 24 GB');
    expect(markdown).toContain('Node v24.21.0, pnpm 12.21.0, PostgreSQL 15.8, Redis 7.0.15');
    expect(markdown).toContain('- Containers: SKIPPED — no Docker engine.');
    expect(markdown).toContain('found things');
  });

  it('says when there is nothing to report', () => {
    expect(renderReport([], '')).toContain('No results yet');
  });
});

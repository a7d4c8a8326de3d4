import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createProgressReporter,
  InvalidProgressError,
  MAX_PROGRESS_MESSAGE_LENGTH,
  type ProgressReport,
} from './progress-reporter.ts';

describe('progress reporter', () => {
  let written: ProgressReport[];
  let errors: unknown[];
  const reporter = (write?: (report: ProgressReport) => Promise<void>) =>
    createProgressReporter({
      write:
        write ??
        (async (report) => {
          written.push(report);
        }),
      onError: (error) => errors.push(error),
      intervalMs: 1_000,
    });

  beforeEach(() => {
    written = [];
    errors = [];
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes the first report at once and then at most once per interval, always the latest', async () => {
    const progress = reporter();
    progress.report(10, 'started');
    await vi.advanceTimersByTimeAsync(0);
    expect(written).toEqual([{ percent: 10, message: 'started' }]);

    progress.report(20);
    progress.report(30, 'thirty');
    await vi.advanceTimersByTimeAsync(999);
    expect(written).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(written).toEqual([
      { percent: 10, message: 'started' },
      { percent: 30, message: 'thirty' },
    ]);

    // quiet for longer than the interval: the next report goes out at once
    await vi.advanceTimersByTimeAsync(5_000);
    progress.report(40);
    await vi.advanceTimersByTimeAsync(0);
    expect(written.at(-1)).toEqual({ percent: 40, message: null });
  });

  it('flush writes the report still waiting, so the last one before the end is not lost', async () => {
    const progress = reporter();
    progress.report(50);
    progress.report(99, 'almost');
    await progress.flush();
    expect(written).toEqual([
      { percent: 50, message: null },
      { percent: 99, message: 'almost' },
    ]);
    // nothing is left over to be written later
    await vi.advanceTimersByTimeAsync(5_000);
    expect(written).toHaveLength(2);
  });

  it('refuses a percent outside 0-100, a non-number, and an over-long message, writing nothing', async () => {
    const progress = reporter();
    for (const percent of [-1, 100.5, Number.NaN, Number.POSITIVE_INFINITY, '50' as never]) {
      expect(() => progress.report(percent)).toThrow(InvalidProgressError);
    }
    expect(() => progress.report(50, 7 as never)).toThrow(/message must be a string/);
    expect(() => progress.report(50, 'x'.repeat(MAX_PROGRESS_MESSAGE_LENGTH + 1))).toThrow(
      /at most 1000 characters/,
    );
    await progress.flush();
    expect(written).toEqual([]);
    // the bounds themselves are fine
    progress.report(0);
    progress.report(100);
    await progress.flush();
    expect(written.map((report) => report.percent)).toEqual([0, 100]);
  });

  it('hands a failed write to onError and goes on writing later reports', async () => {
    let calls = 0;
    const progress = reporter(async (report) => {
      calls += 1;
      if (calls === 1) throw new Error('database away');
      written.push(report);
    });
    progress.report(10);
    progress.report(20);
    await progress.flush();
    expect(errors).toEqual([new Error('database away')]);
    expect(written).toEqual([{ percent: 20, message: null }]);
  });
});

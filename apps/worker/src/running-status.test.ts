import type { StartedAttempt } from '@repo/db';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRunningStatus, type RunningWriteOutcome } from './running-status.ts';

const STARTED: StartedAttempt = { attempt: 1, maxAttempts: 3, cancelRequested: false };

describe('createRunningStatus', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes once the delay has passed, and once only', async () => {
    const markRunning = vi.fn(async () => STARTED);
    const running = createRunningStatus(markRunning);
    const outcomes: RunningWriteOutcome[] = [];
    running.defer(250, (outcome) => outcomes.push(outcome));
    await vi.advanceTimersByTimeAsync(249);
    expect(markRunning).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(outcomes).toEqual([{ started: STARTED }]);
    expect(await running.write()).toBe(STARTED);
    expect(running.skipWrite()).toBe(false);
    expect(markRunning).toHaveBeenCalledTimes(1);
  });

  it('writes at once when asked before the delay, and the timer writes nothing more', async () => {
    const markRunning = vi.fn(async () => STARTED);
    const running = createRunningStatus(markRunning);
    const onWritten = vi.fn();
    running.defer(250, onWritten);
    expect(await running.write()).toBe(STARTED);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(markRunning).toHaveBeenCalledTimes(1);
    // the caller that asked handles the outcome itself
    expect(onWritten).not.toHaveBeenCalled();
  });

  it('never writes once the success has skipped it', async () => {
    const markRunning = vi.fn(async () => STARTED);
    const running = createRunningStatus(markRunning);
    running.defer(250, vi.fn());
    expect(running.skipWrite()).toBe(true);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await running.write()).toBeNull();
    expect(markRunning).not.toHaveBeenCalled();
  });

  it("reports the deferred write's error, and gives it to whoever asks later", async () => {
    const failure = new Error('unreachable');
    const running = createRunningStatus(async () => {
      throw failure;
    });
    const outcomes: RunningWriteOutcome[] = [];
    running.defer(10, (outcome) => outcomes.push(outcome));
    await vi.advanceTimersByTimeAsync(10);
    expect(outcomes).toEqual([{ error: failure }]);
    await expect(running.write()).rejects.toBe(failure);
  });

  it('makes no write after stop', async () => {
    const markRunning = vi.fn(async () => STARTED);
    const running = createRunningStatus(markRunning);
    running.defer(10, vi.fn());
    running.stop();
    await vi.advanceTimersByTimeAsync(100);
    expect(markRunning).not.toHaveBeenCalled();
  });
});

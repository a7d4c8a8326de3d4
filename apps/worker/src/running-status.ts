import type { StartedAttempt } from '@repo/db';

/** The reason a handler is aborted when its deferred `running` write is refused (not queued any more). */
export class RunningRefusedError extends Error {
  override name = 'RunningRefusedError';
}

/** What the deferred `running` write came to: markRunning's outcome, or its error. */
export type RunningWriteOutcome = { started: StartedAttempt | null } | { error: unknown };

/**
 * The `running` write of one attempt. Written before the handler (`write()` at once), or deferred
 * (`defer`): then only once the handler has run for the delay, so that an attempt that ends
 * sooner never writes it (its success records the start instead: markSucceeded's recordsStart).
 * Whatever needs the row running before that (a failure, a progress report, a cancellation) calls
 * `write()`, which writes at once, or waits for the write already under way.
 */
export interface RunningStatus {
  /** Writes `running` unless it was written or is being written; markRunning's outcome. */
  write(): Promise<StartedAttempt | null>;
  /** Writes `running` once `delayMs` has passed, unless asked for earlier; `onWritten` learns how it went. */
  defer(delayMs: number, onWritten: (outcome: RunningWriteOutcome) => void): void;
  /**
   * The handler succeeded: true when `running` was never asked for, and then never will be (the
   * success writes the start); false when it was (the success follows it, as without deferring).
   */
  skipWrite(): boolean;
  /** The attempt has ended: a write not yet made is not made. */
  stop(): void;
}

export function createRunningStatus(
  markRunning: () => Promise<StartedAttempt | null>,
): RunningStatus {
  let written: Promise<StartedAttempt | null> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let skipped = false;
  const stopTimer = () => {
    clearTimeout(timer);
    timer = undefined;
  };
  const write = () => {
    // the success is recording the start: the row goes past running, never back to it
    if (skipped) return Promise.resolve(null);
    stopTimer();
    written ??= markRunning();
    return written;
  };
  return {
    write,
    defer(delayMs, onWritten) {
      timer = setTimeout(() => {
        timer = undefined;
        write().then(
          (started) => onWritten({ started }),
          (error: unknown) => onWritten({ error }),
        );
      }, delayMs);
    },
    skipWrite() {
      if (written) return false;
      stopTimer();
      skipped = true;
      return true;
    },
    stop: stopTimer,
  };
}

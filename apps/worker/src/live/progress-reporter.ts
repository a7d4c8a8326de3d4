/** The most often a job's progress is written to its row (and announced), per job. */
export const PROGRESS_WRITE_INTERVAL_MS = 1_000;
/** The longest progress message kept; a longer one is a handler's mistake, not a report. */
export const MAX_PROGRESS_MESSAGE_LENGTH = 1_000;

/** A handler reported progress that is not a percentage from 0 to 100, or a message too long. */
export class InvalidProgressError extends TypeError {
  override name = 'InvalidProgressError';
}

export interface ProgressReport {
  percent: number;
  message: string | null;
}

export interface ProgressReporter {
  /**
   * What a handler calls (`ctx.progress`): checked at once (InvalidProgressError), written at
   * most once per interval. A report made while the interval runs replaces the one waiting, and
   * is written when it ends: the latest report is always the one that lands.
   */
  report(percent: number, message?: string): void;
  /** Writes the report still waiting, if any, and resolves when every write has settled. */
  flush(): Promise<void>;
}

/**
 * Throttles one attempt's progress reports into writes. A write that fails goes to `onError`
 * (progress is informative: the job goes on), and the writes of one job never overlap.
 */
export function createProgressReporter(options: {
  write: (report: ProgressReport) => Promise<void>;
  onError: (error: unknown) => void;
  intervalMs?: number;
}): ProgressReporter {
  const intervalMs = options.intervalMs ?? PROGRESS_WRITE_INTERVAL_MS;
  let lastWriteAt = Number.NEGATIVE_INFINITY;
  let waiting: ProgressReport | null = null;
  let timer: NodeJS.Timeout | undefined;
  let writes: Promise<void> = Promise.resolve();

  function writeWaiting(): void {
    timer = undefined;
    const report = waiting;
    if (!report) return;
    waiting = null;
    lastWriteAt = performance.now();
    writes = writes.then(() => options.write(report)).catch(options.onError);
  }

  return {
    report(percent, message) {
      if (
        typeof percent !== 'number' ||
        !Number.isFinite(percent) ||
        percent < 0 ||
        percent > 100
      ) {
        throw new InvalidProgressError(
          `progress percent must be a number from 0 to 100, got ${String(percent)}`,
        );
      }
      if (message !== undefined && typeof message !== 'string') {
        throw new InvalidProgressError(`progress message must be a string, got ${typeof message}`);
      }
      if (message !== undefined && message.length > MAX_PROGRESS_MESSAGE_LENGTH) {
        throw new InvalidProgressError(
          `progress message must be at most ${MAX_PROGRESS_MESSAGE_LENGTH} characters, got ${message.length}`,
        );
      }
      waiting = { percent, message: message ?? null };
      if (timer) return;
      const wait = lastWriteAt + intervalMs - performance.now();
      if (wait <= 0) writeWaiting();
      else timer = setTimeout(writeWaiting, wait);
    },
    async flush() {
      clearTimeout(timer);
      writeWaiting();
      await writes;
    },
  };
}

export interface BatcherOptions<I, O> {
  /**
   * Runs one batch. Resolves with one outcome per item, in the items' order; rejecting rejects
   * every item of the batch (see `splitOnFailure`).
   */
  run(items: readonly I[]): Promise<readonly O[]>;
  /** The most items one `run` receives. */
  maxBatchSize: number;
  /** How many batches may run at once; 1 is classic group commit. */
  maxConcurrentBatches?: number;
  /**
   * Items with the same key never share a batch: a later one waits for a later batch. For
   * statements where two changes to one row in one batch would not behave like two in a row.
   */
  keyOf?: (item: I) => string | undefined;
  /**
   * When a batch of several items fails with an error this returns true for, each item is run
   * again on its own, so that one bad item cannot fail the others. Return false for errors that
   * concern the batch as a whole (the database is unreachable): the items then fail together.
   */
  splitOnFailure?: (error: unknown) => boolean;
}

export interface Batcher<I, O> {
  /** Resolves with this item's outcome once the batch it joined has run. */
  submit(item: I): Promise<O>;
}

interface Entry<I, O> {
  item: I;
  resolve(outcome: O): void;
  reject(error: unknown): void;
}

/**
 * Group commit: the first call starts a batch at the end of the current event-loop turn; calls
 * that arrive while it runs wait and go together as the next batch. Under light load each call is
 * its own batch (no timer: it waits only for the end of the current turn); under heavy load batches grow until one statement
 * carries many calls, which is what makes a hot path scale (one round trip, one commit, one
 * syscall for many). DataLoader batches only within one tick and holds no batch back while
 * another runs, so it would send nearly every HTTP request alone; hence this small module.
 */
export function createBatcher<I, O>(options: BatcherOptions<I, O>): Batcher<I, O> {
  const maxBatchSize = positiveInteger(options.maxBatchSize, 'maxBatchSize');
  const maxConcurrentBatches = positiveInteger(
    options.maxConcurrentBatches ?? 1,
    'maxConcurrentBatches',
  );
  let waiting: Entry<I, O>[] = [];
  let running = 0;
  let scheduled = false;

  function schedule() {
    if (scheduled || running >= maxConcurrentBatches || waiting.length === 0) return;
    scheduled = true;
    // after this turn's I/O callbacks and microtasks, so whatever they submit joins the batch
    setImmediate(dispatch);
  }

  function dispatch() {
    scheduled = false;
    while (running < maxConcurrentBatches && waiting.length > 0) {
      const batch = takeBatch();
      running += 1;
      void runBatch(batch).finally(() => {
        running -= 1;
        schedule();
      });
    }
  }

  function takeBatch(): Entry<I, O>[] {
    const batch: Entry<I, O>[] = [];
    const later: Entry<I, O>[] = [];
    const keys = new Set<string>();
    for (const entry of waiting) {
      const key = options.keyOf?.(entry.item);
      if (batch.length >= maxBatchSize || (key !== undefined && keys.has(key))) {
        later.push(entry);
        continue;
      }
      if (key !== undefined) keys.add(key);
      batch.push(entry);
    }
    waiting = later;
    return batch;
  }

  async function runBatch(batch: Entry<I, O>[]): Promise<void> {
    try {
      settle(batch, await runChecked(batch));
    } catch (error) {
      if (batch.length > 1 && options.splitOnFailure?.(error)) {
        await Promise.all(
          batch.map(async (entry) => {
            try {
              settle([entry], await runChecked([entry]));
            } catch (alone) {
              entry.reject(alone);
            }
          }),
        );
        return;
      }
      for (const entry of batch) entry.reject(error);
    }
  }

  async function runChecked(batch: Entry<I, O>[]): Promise<readonly O[]> {
    const outcomes = await options.run(batch.map((entry) => entry.item));
    if (outcomes.length !== batch.length) {
      throw new TypeError(
        `a batch of ${batch.length} items produced ${outcomes.length} outcomes; run() must return exactly one per item`,
      );
    }
    return outcomes;
  }

  function settle(batch: Entry<I, O>[], outcomes: readonly O[]) {
    batch.forEach((entry, index) => {
      entry.resolve(outcomes[index] as O);
    });
  }

  return {
    submit(item) {
      return new Promise<O>((resolve, reject) => {
        waiting.push({ item, resolve, reject });
        schedule();
      });
    },
  };
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a whole number of at least 1, got ${value}`);
  }
  return value;
}

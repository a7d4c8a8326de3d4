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
   * The most items that may wait for a batch (items in running batches do not count). A submit
   * beyond it is refused at once with a BatchQueueFullError, so a stalled `run` sheds load instead
   * of collecting callers without end. Default: no bound.
   */
  maxWaiting?: number;
  /**
   * Items with the same key never run at the same time: not in one batch, and not in two batches
   * in flight at once. A later one waits until the earlier one's batch has finished, so changes to
   * one key apply in submission order. For statements where two changes to one row in one batch
   * would not behave like two in a row.
   */
  keyOf?: (item: I) => string | undefined;
  /**
   * When a batch of several items fails with an error this returns true for, each item is run
   * again on its own, so that one bad item cannot fail the others. Return false for errors that
   * concern the batch as a whole (the database is unreachable): the items then fail together.
   */
  splitOnFailure?: (error: unknown) => boolean;
}

export interface SubmitOptions {
  /**
   * Aborting it while the item still waits drops the item: `run` never sees it and `submit`
   * rejects with the signal's reason. Once the item's batch has been sent, aborting changes
   * nothing: the item may take effect, and `submit` settles with its outcome.
   */
  signal?: AbortSignal;
  /**
   * Called when the item's batch is sent, just before `run`: from then on the item may take
   * effect. If it throws, the item is left out of the batch and `submit` rejects with that error.
   */
  onSent?: () => void;
}

export interface Batcher<I, O> {
  /** Resolves with this item's outcome once the batch it joined has run. */
  submit(item: I, options?: SubmitOptions): Promise<O>;
}

/** A submit refused because `maxWaiting` items are already waiting for a batch. */
export class BatchQueueFullError extends Error {
  override readonly name = 'BatchQueueFullError';
  readonly maxWaiting: number;

  constructor(maxWaiting: number) {
    super(`${maxWaiting} items are already waiting for a batch; try again later`);
    this.maxWaiting = maxWaiting;
  }
}

interface Entry<I, O> {
  item: I;
  key: string | undefined;
  options: SubmitOptions | undefined;
  /** Removes the abort listener; set while the entry waits with a signal. */
  unlisten?: () => void;
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
  const maxWaiting =
    options.maxWaiting === undefined
      ? Number.POSITIVE_INFINITY
      : positiveInteger(options.maxWaiting, 'maxWaiting');
  let waiting: Entry<I, O>[] = [];
  /** Keys of the items in running batches. */
  const keysInFlight = new Set<string>();
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
      // every waiting item's key is in flight: the batches holding them schedule the next one
      if (batch.length === 0) return;
      const keys = batch.flatMap((entry) => (entry.key === undefined ? [] : [entry.key]));
      for (const key of keys) keysInFlight.add(key);
      running += 1;
      void runBatch(batch).finally(() => {
        for (const key of keys) keysInFlight.delete(key);
        running -= 1;
        schedule();
      });
    }
  }

  function takeBatch(): Entry<I, O>[] {
    const batch: Entry<I, O>[] = [];
    const later: Entry<I, O>[] = [];
    // a key is held back when it is in flight or already in this batch; once one item of a key
    // is held back, every later item of that key is too, so they keep their order
    const heldBack = new Set(keysInFlight);
    for (const entry of waiting) {
      if (batch.length >= maxBatchSize || (entry.key !== undefined && heldBack.has(entry.key))) {
        later.push(entry);
        continue;
      }
      if (!markSent(entry)) continue;
      if (entry.key !== undefined) heldBack.add(entry.key);
      batch.push(entry);
    }
    waiting = later;
    return batch;
  }

  /** The entry leaves the waiting list for a batch; false when its onSent threw (it is rejected). */
  function markSent(entry: Entry<I, O>): boolean {
    entry.unlisten?.();
    try {
      entry.options?.onSent?.();
      return true;
    } catch (error) {
      entry.reject(error);
      return false;
    }
  }

  async function runBatch(batch: Entry<I, O>[]): Promise<void> {
    try {
      settle(batch, await runChecked(batch));
    } catch (error) {
      let split: boolean;
      try {
        split = batch.length > 1 && options.splitOnFailure?.(error) === true;
      } catch (classifierError) {
        // a throwing classifier must not leave the callers waiting: each learns both errors
        const failure = new AggregateError(
          [error, classifierError],
          'a batch failed, and splitOnFailure threw while classifying its error',
        );
        for (const entry of batch) entry.reject(failure);
        return;
      }
      if (split) {
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

  function drop(entry: Entry<I, O>, reason: unknown) {
    const index = waiting.indexOf(entry);
    if (index === -1) return;
    waiting.splice(index, 1);
    entry.reject(reason);
  }

  return {
    submit(item, submitOptions) {
      const signal = submitOptions?.signal;
      if (signal?.aborted) return Promise.reject(signal.reason);
      if (waiting.length >= maxWaiting) return Promise.reject(new BatchQueueFullError(maxWaiting));
      let key: string | undefined;
      try {
        key = options.keyOf?.(item);
      } catch (error) {
        return Promise.reject(error);
      }
      return new Promise<O>((resolve, reject) => {
        const entry: Entry<I, O> = { item, key, options: submitOptions, resolve, reject };
        if (signal) {
          const onAbort = () => drop(entry, signal.reason);
          signal.addEventListener('abort', onAbort, { once: true });
          entry.unlisten = () => signal.removeEventListener('abort', onAbort);
        }
        waiting.push(entry);
        schedule();
      });
    },
  };
}

/** `value` when it is a whole number of at least 1; a RangeError naming `name` otherwise. */
export function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a whole number of at least 1, got ${value}`);
  }
  return value;
}

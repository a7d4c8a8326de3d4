import { describe, expect, it } from 'vitest';
import { BatchQueueFullError, createBatcher } from './create-batcher.ts';

/** A `run` that records each batch and, while `hold` is set, waits until `release()`. */
function recordingRun<I, O>(outcome: (item: I) => O) {
  const batches: I[][] = [];
  let gate: { promise: Promise<void>; release(): void } | undefined;
  return {
    batches,
    hold() {
      let release = () => {};
      const promise = new Promise<void>((resolve) => {
        release = resolve;
      });
      gate = { promise, release };
    },
    release() {
      const current = gate;
      gate = undefined;
      current?.release();
    },
    async run(items: readonly I[]): Promise<O[]> {
      batches.push([...items]);
      await gate?.promise;
      return items.map(outcome);
    },
  };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('createBatcher', () => {
  it('runs a lone call as a batch of one', async () => {
    const recorder = recordingRun((n: number) => n * 2);
    const batcher = createBatcher({ run: recorder.run, maxBatchSize: 10 });
    await expect(batcher.submit(21)).resolves.toBe(42);
    expect(recorder.batches).toEqual([[21]]);
  });

  it('sends calls made in the same turn as one batch and answers each with its own outcome', async () => {
    const recorder = recordingRun((n: number) => `item ${n}`);
    const batcher = createBatcher({ run: recorder.run, maxBatchSize: 10 });
    const outcomes = await Promise.all([1, 2, 3].map((n) => batcher.submit(n)));
    expect(outcomes).toEqual(['item 1', 'item 2', 'item 3']);
    expect(recorder.batches).toEqual([[1, 2, 3]]);
  });

  it('holds calls that arrive while a batch runs and sends them together as the next batch', async () => {
    const recorder = recordingRun((n: number) => n);
    const batcher = createBatcher({ run: recorder.run, maxBatchSize: 10 });
    recorder.hold();
    const first = batcher.submit(1);
    await nextTurn();
    expect(recorder.batches).toEqual([[1]]);

    const later = [2, 3, 4, 5].map((n) => batcher.submit(n));
    await nextTurn();
    await nextTurn();
    expect(recorder.batches).toEqual([[1]]);

    recorder.release();
    await expect(Promise.all([first, ...later])).resolves.toEqual([1, 2, 3, 4, 5]);
    expect(recorder.batches).toEqual([[1], [2, 3, 4, 5]]);
  });

  it('never puts more than maxBatchSize items in a batch, keeping submission order', async () => {
    const recorder = recordingRun((n: number) => n);
    const batcher = createBatcher({ run: recorder.run, maxBatchSize: 3 });
    const items = [1, 2, 3, 4, 5, 6, 7];
    await expect(Promise.all(items.map((n) => batcher.submit(n)))).resolves.toEqual(items);
    expect(recorder.batches).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
  });

  it('keeps items with the same key out of one batch, in submission order', async () => {
    const recorder = recordingRun((item: { row: string; step: number }) => item.step);
    const batcher = createBatcher({
      run: recorder.run,
      maxBatchSize: 10,
      keyOf: (item) => item.row,
    });
    const items = [
      { row: 'a', step: 1 },
      { row: 'b', step: 1 },
      { row: 'a', step: 2 },
      { row: 'a', step: 3 },
      { row: 'c', step: 1 },
    ];
    await expect(Promise.all(items.map((item) => batcher.submit(item)))).resolves.toEqual([
      1, 1, 2, 3, 1,
    ]);
    expect(recorder.batches).toEqual([[items[0], items[1], items[4]], [items[2]], [items[3]]]);
  });

  it('runs up to maxConcurrentBatches batches at once', async () => {
    const recorder = recordingRun((n: number) => n);
    const batcher = createBatcher({ run: recorder.run, maxBatchSize: 2, maxConcurrentBatches: 2 });
    recorder.hold();
    const pending = [1, 2, 3, 4, 5].map((n) => batcher.submit(n));
    await nextTurn();
    expect(recorder.batches).toEqual([
      [1, 2],
      [3, 4],
    ]);
    recorder.release();
    await expect(Promise.all(pending)).resolves.toEqual([1, 2, 3, 4, 5]);
    expect(recorder.batches.at(-1)).toEqual([5]);
  });

  it('rejects every item of a failed batch with its error when the failure is not split', async () => {
    const unreachable = new Error('database unreachable');
    const batcher = createBatcher({
      run: async () => {
        throw unreachable;
      },
      maxBatchSize: 10,
      splitOnFailure: (error) => error !== unreachable,
    });
    const outcomes = await Promise.allSettled([1, 2, 3].map((n) => batcher.submit(n)));
    expect(outcomes).toEqual([1, 2, 3].map(() => ({ status: 'rejected', reason: unreachable })));
  });

  it('runs each item of a failed batch alone when splitOnFailure says so, so only the bad one fails', async () => {
    const batches: number[][] = [];
    const batcher = createBatcher({
      run: async (items: readonly number[]) => {
        batches.push([...items]);
        if (items.includes(13)) throw new RangeError(`13 is out of range`);
        return items.map((n) => n + 100);
      },
      maxBatchSize: 10,
      splitOnFailure: (error) => error instanceof RangeError,
    });
    const outcomes = await Promise.allSettled([12, 13, 14].map((n) => batcher.submit(n)));
    expect(outcomes).toEqual([
      { status: 'fulfilled', value: 112 },
      { status: 'rejected', reason: new RangeError('13 is out of range') },
      { status: 'fulfilled', value: 114 },
    ]);
    expect(batches).toEqual([[12, 13, 14], [12], [13], [14]]);
  });

  it('keeps working after a failed batch', async () => {
    let fail = true;
    const batcher = createBatcher({
      run: async (items: readonly string[]) => {
        if (fail) throw new Error('first batch fails');
        return items.map((item) => item.toUpperCase());
      },
      maxBatchSize: 10,
    });
    await expect(batcher.submit('a')).rejects.toThrow('first batch fails');
    fail = false;
    await expect(batcher.submit('b')).resolves.toBe('B');
  });

  it('rejects the batch when run() answers with the wrong number of outcomes', async () => {
    const batcher = createBatcher({ run: async () => [1], maxBatchSize: 10 });
    const outcomes = await Promise.allSettled([batcher.submit('x'), batcher.submit('y')]);
    for (const outcome of outcomes) {
      expect(outcome).toMatchObject({
        status: 'rejected',
        reason: new TypeError(
          'a batch of 2 items produced 1 outcomes; run() must return exactly one per item',
        ),
      });
    }
  });

  it('holds back an item whose key is in a batch still in flight, even with room for another batch', async () => {
    const recorder = recordingRun((item: { row: string; step: number }) => item.step);
    const batcher = createBatcher({
      run: recorder.run,
      maxBatchSize: 10,
      maxConcurrentBatches: 2,
      keyOf: (item) => item.row,
    });
    recorder.hold();
    const first = batcher.submit({ row: 'a', step: 1 });
    await nextTurn();
    expect(recorder.batches).toEqual([[{ row: 'a', step: 1 }]]);

    const second = batcher.submit({ row: 'a', step: 2 });
    const other = batcher.submit({ row: 'b', step: 1 });
    await nextTurn();
    // b may run beside the first batch; a's second change waits for the first to finish
    expect(recorder.batches).toEqual([[{ row: 'a', step: 1 }], [{ row: 'b', step: 1 }]]);

    recorder.release();
    await expect(Promise.all([first, second, other])).resolves.toEqual([1, 2, 1]);
    expect(recorder.batches.at(-1)).toEqual([{ row: 'a', step: 2 }]);
  });

  it('rejects every caller, without an unhandled rejection, when splitOnFailure throws', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const failure = new Error('batch failed');
      const classifierBug = new TypeError('classifier bug');
      const batcher = createBatcher({
        run: async () => {
          throw failure;
        },
        maxBatchSize: 10,
        splitOnFailure: () => {
          throw classifierBug;
        },
      });
      const outcomes = await Promise.allSettled([1, 2].map((n) => batcher.submit(n)));
      for (const outcome of outcomes) {
        expect(outcome.status).toBe('rejected');
        const reason = (outcome as PromiseRejectedResult).reason as AggregateError;
        expect(reason).toBeInstanceOf(AggregateError);
        expect(reason.errors).toEqual([failure, classifierBug]);
      }
      // the batcher still works afterwards
      await nextTurn();
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('refuses a submit at once when maxWaiting items wait, not counting those in flight', async () => {
    const recorder = recordingRun((n: number) => n);
    const batcher = createBatcher({ run: recorder.run, maxBatchSize: 10, maxWaiting: 2 });
    recorder.hold();
    const inFlight = batcher.submit(1);
    await nextTurn();
    const waitingItems = [batcher.submit(2), batcher.submit(3)];
    await expect(batcher.submit(4)).rejects.toEqual(new BatchQueueFullError(2));
    recorder.release();
    await expect(Promise.all([inFlight, ...waitingItems])).resolves.toEqual([1, 2, 3]);
    expect(recorder.batches).toEqual([[1], [2, 3]]);
    // room again once the waiting items have gone out
    await expect(batcher.submit(5)).resolves.toBe(5);
  });

  it('drops an item whose signal aborts while it waits, so run() never sees it', async () => {
    const recorder = recordingRun((n: number) => n);
    const batcher = createBatcher({ run: recorder.run, maxBatchSize: 10 });
    recorder.hold();
    const inFlight = batcher.submit(1);
    await nextTurn();
    const abandoned = new AbortController();
    const sent: number[] = [];
    const dropped = batcher.submit(2, { signal: abandoned.signal, onSent: () => sent.push(2) });
    const kept = batcher.submit(3, { onSent: () => sent.push(3) });
    const reason = new Error('the request was abandoned');
    abandoned.abort(reason);
    await expect(dropped).rejects.toBe(reason);
    recorder.release();
    await expect(Promise.all([inFlight, kept])).resolves.toEqual([1, 3]);
    expect(recorder.batches).toEqual([[1], [3]]);
    expect(sent).toEqual([3]);
  });

  it('ignores an abort once the item has been sent, and calls onSent before run()', async () => {
    const recorder = recordingRun((n: number) => n * 10);
    const batcher = createBatcher({ run: recorder.run, maxBatchSize: 10 });
    recorder.hold();
    const controller = new AbortController();
    let batchesWhenSent = -1;
    const pending = batcher.submit(7, {
      signal: controller.signal,
      onSent: () => {
        batchesWhenSent = recorder.batches.length;
      },
    });
    await nextTurn();
    expect(batchesWhenSent).toBe(0);
    controller.abort(new Error('too late'));
    recorder.release();
    await expect(pending).resolves.toBe(70);
  });

  it('refuses an item whose signal has already aborted, and one whose key cannot be computed', async () => {
    const recorder = recordingRun((n: number) => n);
    const batcher = createBatcher({
      run: recorder.run,
      maxBatchSize: 10,
      keyOf: (n) => {
        if (n < 0) throw new RangeError('no key for a negative item');
        return String(n);
      },
    });
    const reason = new Error('gone');
    await expect(batcher.submit(1, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    await expect(batcher.submit(-1)).rejects.toThrow('no key for a negative item');
    await expect(batcher.submit(2)).resolves.toBe(2);
    expect(recorder.batches).toEqual([[2]]);
  });

  it('leaves an item out of its batch when its onSent throws', async () => {
    const recorder = recordingRun((n: number) => n);
    const batcher = createBatcher({ run: recorder.run, maxBatchSize: 10 });
    const broken = new Error('onSent failed');
    const outcomes = await Promise.allSettled([
      batcher.submit(1, {
        onSent: () => {
          throw broken;
        },
      }),
      batcher.submit(2),
    ]);
    expect(outcomes).toEqual([
      { status: 'rejected', reason: broken },
      { status: 'fulfilled', value: 2 },
    ]);
    expect(recorder.batches).toEqual([[2]]);
  });

  it('refuses a batch size, concurrency or waiting bound below one', () => {
    const run = async (items: readonly number[]) => items;
    expect(() => createBatcher({ run, maxBatchSize: 0 })).toThrow(
      'maxBatchSize must be a whole number of at least 1, got 0',
    );
    expect(() => createBatcher({ run, maxBatchSize: 5, maxConcurrentBatches: 1.5 })).toThrow(
      'maxConcurrentBatches must be a whole number of at least 1, got 1.5',
    );
    expect(() => createBatcher({ run, maxBatchSize: 5, maxWaiting: 0 })).toThrow(
      'maxWaiting must be a whole number of at least 1, got 0',
    );
  });
});

import { describe, expect, it } from 'vitest';
import {
  CONCURRENCY_KEY_FIELD,
  concurrencyKeySchema,
  queuedJobData,
  ROW_COUNT_FIELD,
  splitQueuedJobData,
} from './concurrency-key.ts';

describe('concurrency keys', () => {
  it('accepts 1–128 characters of A-Z a-z 0-9 _ . : - and nothing else', () => {
    for (const key of ['tenant-42', 'org:acme.eu_1', 'a', 'x'.repeat(128)]) {
      expect(concurrencyKeySchema.safeParse(key).success).toBe(true);
    }
    for (const key of ['', 'x'.repeat(129), 'a b', 'tenant/1', 'ü', '{tag}']) {
      expect(concurrencyKeySchema.safeParse(key).success).toBe(false);
    }
  });

  it('carries the key beside the payload in the queued data, and takes it out again', () => {
    const data = queuedJobData({ url: 'https://example.com' }, 'tenant-1');
    expect(data).toEqual({ url: 'https://example.com', [CONCURRENCY_KEY_FIELD]: 'tenant-1' });
    expect(splitQueuedJobData(data)).toEqual({
      payload: { url: 'https://example.com' },
      concurrencyKey: 'tenant-1',
      rowCount: null,
    });
  });

  it("carries the row's count beside the payload, and ignores one that does not parse", () => {
    const rowCount = { attemptsUsed: 2, expiresAt: '2031-01-02T03:04:05.678Z' };
    const data = queuedJobData({ n: 1 }, null, rowCount);
    expect(data).toEqual({ n: 1, [ROW_COUNT_FIELD]: rowCount });
    expect(splitQueuedJobData(data)).toEqual({ payload: { n: 1 }, concurrencyKey: null, rowCount });
    expect(
      splitQueuedJobData({
        n: 1,
        [CONCURRENCY_KEY_FIELD]: 'k',
        [ROW_COUNT_FIELD]: { attemptsUsed: -1 },
      }),
    ).toEqual({ payload: { n: 1 }, concurrencyKey: 'k', rowCount: null });
  });

  it('leaves a job without a key as jobs were queued before keys existed', () => {
    expect(queuedJobData({ n: 1 }, null)).toEqual({ n: 1 });
    expect(splitQueuedJobData({ n: 1 })).toEqual({
      payload: { n: 1 },
      concurrencyKey: null,
      rowCount: null,
    });
  });
});

import { describe, expect, it } from 'vitest';
import {
  decodeJobEvent,
  encodeJobEvent,
  type JobEventMessage,
  jobCancelChannel,
  jobEventsChannel,
} from './job-channels.ts';

describe('job channels', () => {
  it('names the channels under the queue prefix, so stacks sharing a Redis never hear each other', () => {
    expect(jobCancelChannel('jobstack')).toBe('jobstack:jobstack:job-cancel');
    expect(jobEventsChannel('{jobs}')).toBe('{jobs}:jobstack:job-events');
    expect(jobEventsChannel('a')).not.toBe(jobEventsChannel('b'));
  });

  it('decodes what it encodes', () => {
    const messages: JobEventMessage[] = [
      { kind: 'status', jobId: '0194c4a0-0000-4000-8000-000000000001' },
      {
        kind: 'progress',
        jobId: '0194c4a0-0000-4000-8000-000000000001',
        progress: { percent: 42.5, message: null, updatedAt: '2026-12-02T06:00:00.000Z' },
      },
    ];
    for (const message of messages)
      expect(decodeJobEvent(encodeJobEvent(message))).toEqual(message);
  });

  it('answers null for anything that is not one of its messages', () => {
    for (const text of [
      'not json',
      '42',
      '{}',
      '{"kind":"other","jobId":"x"}',
      '{"kind":"progress","jobId":"x","progress":{"percent":101,"message":null,"updatedAt":"t"}}',
    ]) {
      expect(decodeJobEvent(text)).toBeNull();
    }
  });
});

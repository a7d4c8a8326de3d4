import type { JobRecord } from '@repo/db';
import type { Response } from 'express';
import { describe, expect, it } from 'vitest';
import { JobEventStream } from './job-event-stream.ts';

const JOB_ID = '0194c4a0-0000-4000-8000-000000000001';

/** What the stream uses of an Express response, recording what was written. */
function fakeResponse() {
  const written: string[] = [];
  const res = {
    headers: {} as Record<string, string>,
    statusCode: 0,
    writableEnded: false,
    destroyed: false,
    writableLength: 0,
    status(code: number) {
      res.statusCode = code;
      return res;
    },
    set(headers: Record<string, string>) {
      Object.assign(res.headers, headers);
      return res;
    },
    flushHeaders() {},
    write(chunk: string) {
      written.push(chunk);
      return true;
    },
    end() {
      res.writableEnded = true;
    },
    destroy() {
      res.destroyed = true;
    },
  };
  /** The events written so far, as [event, id, data]. */
  const events = () =>
    written
      .filter((chunk) => chunk.startsWith('id: '))
      .map((chunk) => {
        const [id, event, data] = chunk.trim().split('\n');
        return [event?.slice(7), Number(id?.slice(4)), JSON.parse(data?.slice(6) ?? 'null')];
      });
  return { res, written, events, response: res as unknown as Response };
}

function row(status: string, at: number, progress: unknown = null): JobRecord {
  return {
    id: JOB_ID,
    type: 'system.echo',
    payload: {},
    status,
    attempts: 1,
    maxAttempts: 3,
    result: null,
    error: null,
    idempotencyKey: null,
    runAt: null,
    schedulerId: null,
    queueJobId: null,
    concurrencyKey: null,
    createdAt: new Date(0),
    startedAt: null,
    attemptStartedAt: null,
    workerId: null,
    finishedAt: null,
    progress,
    cancelRequestedAt: null,
    updatedAt: new Date(at),
  } as JobRecord;
}
const progressAt = (percent: number, at: number) => ({
  percent,
  message: null,
  updatedAt: new Date(at).toISOString(),
});

describe('job event stream', () => {
  it('opens as text/event-stream with the state at connect, then shows each status change once', () => {
    const { res, events, written, response } = fakeResponse();
    const stream = new JobEventStream(JOB_ID, response, null);
    stream.open(row('queued', 1_000));
    expect(res.statusCode).toBe(200);
    expect(res.headers['Content-Type']).toBe('text/event-stream; charset=utf-8');
    expect(written[0]).toBe('retry: 2000\n\n');
    stream.offerRow(row('queued', 1_100));
    stream.offerRow(row('running', 1_200));
    stream.offerRow(row('running', 1_300));
    expect(events().map(([event, id, data]) => [event, id, data.status])).toEqual([
      ['status', 1_000, 'queued'],
      ['status', 1_200, 'running'],
    ]);
    expect(stream.isOpen).toBe(true);
  });

  it('ignores a row older than the one shown (a read that was overtaken)', () => {
    const { events, response } = fakeResponse();
    const stream = new JobEventStream(JOB_ID, response, null);
    stream.open(row('running', 2_000));
    stream.offerRow(row('queued', 1_000));
    expect(events().map(([, , data]) => data.status)).toEqual(['running']);
  });

  it('shows progress newer than what was shown or what the client saw (Last-Event-ID)', () => {
    const { events, response } = fakeResponse();
    const stream = new JobEventStream(JOB_ID, response, 1_500);
    // the client saw progress up to 1,500 before it reconnected
    stream.open(row('running', 1_500, progressAt(30, 1_500)));
    stream.offerProgress(progressAt(20, 1_400));
    stream.offerProgress(progressAt(40, 1_600));
    stream.offerProgress(progressAt(40, 1_600));
    expect(events().map(([event, id]) => [event, id])).toEqual([
      ['status', 1_500],
      ['progress', 1_600],
    ]);
    expect(events()[1]?.[2]).toEqual({ id: JOB_ID, progress: progressAt(40, 1_600) });
  });

  it('ends after a finished status and shows nothing more', () => {
    const { res, events, response } = fakeResponse();
    const stream = new JobEventStream(JOB_ID, response, null);
    stream.open(row('running', 1_000));
    stream.offerRow(row('cancelled', 2_000));
    expect(res.writableEnded).toBe(true);
    expect(stream.isOpen).toBe(false);
    stream.offerProgress(progressAt(90, 3_000));
    stream.heartbeat();
    expect(events().map(([, , data]) => data.status ?? 'progress')).toEqual([
      'running',
      'cancelled',
    ]);
  });

  it('holds what the hub offers before the first row is read, and shows it after that row', () => {
    const { written, events, response } = fakeResponse();
    const stream = new JobEventStream(JOB_ID, response, null);
    stream.offerRow(row('running', 2_000));
    stream.offerProgress(progressAt(50, 2_100));
    stream.heartbeat();
    // nothing may be written before the headers
    expect(written).toEqual([]);
    stream.open(row('queued', 1_000));
    expect(events().map(([event, id]) => [event, id])).toEqual([
      ['status', 1_000],
      ['status', 2_000],
      ['progress', 2_100],
    ]);
  });

  it('closes the stream of a client that stopped reading instead of buffering for it', () => {
    const { res, response } = fakeResponse();
    const stream = new JobEventStream(JOB_ID, response, null);
    stream.open(row('running', 1_000));
    res.writableLength = 2 * 1_048_576;
    stream.heartbeat();
    expect(res.destroyed).toBe(true);
    expect(stream.isOpen).toBe(false);
  });
});

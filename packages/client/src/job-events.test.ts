import { describe, expect, it } from 'vitest';
import { readJobEvents } from './job-events.ts';

/** A body that arrives in the given chunks, as a network would cut it. */
function chunked(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

describe('readJobEvents', () => {
  it('yields status and progress events, skipping heartbeats and event types it does not know', async () => {
    const job = { id: 'j1', status: 'running' };
    const body = chunked([
      `event: status\nid: 100\ndata: ${JSON.stringify(job)}\n\n`,
      ': heartbeat\n\n',
      'event: progress\nid: 101\ndata: {"id":"j1","pro',
      'gress":{"done":1,"total":2}}\n\n',
      'event: something-newer\ndata: {}\n\n',
      `event: status\nid: 102\ndata: ${JSON.stringify({ ...job, status: 'succeeded' })}\n\n`,
    ]);
    const events = [];
    for await (const event of readJobEvents(body)) events.push(event);
    expect(events).toEqual([
      { type: 'status', eventId: '100', job },
      { type: 'progress', eventId: '101', jobId: 'j1', progress: { done: 1, total: 2 } },
      { type: 'status', eventId: '102', job: { ...job, status: 'succeeded' } },
    ]);
  });
});

import { EventSourceParserStream } from 'eventsource-parser/stream';
import type { components } from './api-types.ts';
import type { Job } from './errors.ts';

export type JobProgress = components['schemas']['JobProgress'];

/** One event of a job's event stream (GET /v1/jobs/:id/events). */
export type JobEvent =
  /** The job as it is: first when the stream opens, then at every status change. */
  | { type: 'status'; eventId: string | undefined; job: Job }
  /** What the job's handler reported of its progress. */
  | { type: 'progress'; eventId: string | undefined; jobId: string; progress: JobProgress };

/**
 * The events of a job's event stream as they arrive. Heartbeat comments are skipped, and so are
 * event types this client does not know (an api newer than the client may send more).
 */
export async function* readJobEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<JobEvent> {
  const messages = body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream({ onError: 'terminate' }));
  for await (const message of messages) {
    if (message.event === 'status') {
      yield { type: 'status', eventId: message.id, job: JSON.parse(message.data) as Job };
    } else if (message.event === 'progress') {
      const { id, progress } = JSON.parse(message.data) as { id: string; progress: JobProgress };
      yield { type: 'progress', eventId: message.id, jobId: id, progress };
    }
  }
}

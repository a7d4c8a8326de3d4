import { type IncomingHttpHeaders, request } from 'node:http';
import { READY_DEADLINE_MS } from '@repo/testing';

export interface ServerSentEvent {
  id: string | null;
  event: string;
  data: string;
}

/** A Server-Sent Events client for tests: what arrived, and waits for what should arrive. */
export interface EventStreamClient {
  status: number;
  headers: IncomingHttpHeaders;
  /** The whole body for an answer that is not a stream (a problem). */
  body(): string;
  events: ServerSentEvent[];
  comments: string[];
  /** Resolves with the first event (already arrived or arriving) that matches. */
  waitForEvent(
    matches: (event: ServerSentEvent) => boolean,
    timeoutMs?: number,
  ): Promise<ServerSentEvent>;
  waitForComment(timeoutMs?: number): Promise<string>;
  /** Resolves when the server has ended the stream. */
  ended: Promise<void>;
  close(): void;
}

/**
 * Opens `url` as EventSource would (Accept: text/event-stream), on a connection of its own, and
 * parses the events as they arrive (the SSE format: fields per line, events between blank lines).
 */
export function openEventStream(
  url: string,
  headers: Record<string, string>,
): Promise<EventStreamClient> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { headers: { Accept: 'text/event-stream', ...headers }, agent: false },
      (res) => {
        res.setEncoding('utf8');
        const events: ServerSentEvent[] = [];
        const comments: string[] = [];
        let raw = '';
        let pending = '';
        const waiters = new Set<() => void>();
        let settled = false;
        const ended = new Promise<void>((done) =>
          res.once('close', () => {
            settled = true;
            for (const wake of waiters) wake();
            done();
          }),
        );
        res.on('data', (chunk: string) => {
          raw += chunk;
          pending += chunk;
          let end = pending.indexOf('\n\n');
          while (end !== -1) {
            const block = pending.slice(0, end);
            pending = pending.slice(end + 2);
            end = pending.indexOf('\n\n');
            const event: ServerSentEvent = { id: null, event: 'message', data: '' };
            let isEvent = false;
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) comments.push(line.slice(1).trim());
              else if (line.startsWith('id: ')) event.id = line.slice(4);
              else if (line.startsWith('event: ')) event.event = line.slice(7);
              else if (line.startsWith('data: ')) {
                event.data = line.slice(6);
                isEvent = true;
              }
            }
            if (isEvent) events.push(event);
          }
          for (const wake of waiters) wake();
        });
        function waitFor<T>(find: () => T | undefined, what: string, timeoutMs: number) {
          return new Promise<T>((found, failed) => {
            const check = () => {
              const value = find();
              if (value !== undefined) {
                cleanup();
                found(value);
              } else if (settled) {
                cleanup();
                failed(
                  new Error(`the stream ended without ${what}; got ${JSON.stringify(events)}`),
                );
              }
            };
            const timer = setTimeout(() => {
              cleanup();
              failed(new Error(`no ${what} within ${timeoutMs} ms; got ${JSON.stringify(events)}`));
            }, timeoutMs);
            const cleanup = () => {
              clearTimeout(timer);
              waiters.delete(check);
            };
            waiters.add(check);
            check();
          });
        }
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: () => raw,
          events,
          comments,
          waitForEvent: (matches, timeoutMs = READY_DEADLINE_MS) =>
            waitFor(() => events.find(matches), 'matching event', timeoutMs),
          waitForComment: (timeoutMs = READY_DEADLINE_MS) =>
            waitFor(() => comments[0], 'comment', timeoutMs),
          ended,
          close: () => req.destroy(),
        });
      },
    );
    req.once('error', reject);
    req.end();
  });
}

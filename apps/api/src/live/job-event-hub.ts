import type { JobRepository } from '@repo/db';
import { decodeJobEvent } from '@repo/jobs';
import type { Logger } from '@repo/logger';
import type { Redis } from 'ioredis';
import type { Gauge } from 'prom-client';
import type { JobEventStream } from './job-event-stream.ts';

/** How often an open stream gets a heartbeat comment, and its job's row is read again. */
export const EVENT_HEARTBEAT_MS = 15_000;

export interface JobEventHub {
  /** Subscribes to the workers' announcements; resolves once Redis has confirmed it. */
  start(): Promise<void>;
  /** Routes the job's events to `stream` until it ends (the caller shows it the row first). */
  add(stream: JobEventStream): void;
  remove(stream: JobEventStream): void;
  /** Ends every stream (clients reconnect, elsewhere once this process is out of rotation). */
  close(): Promise<void>;
  /** Streams open now. */
  readonly size: number;
}

/**
 * The one Redis subscriber of this api process, routing the workers' announcements to the event
 * streams open here by job id: a connection per stream would not scale to thousands of streams.
 * A `progress` announcement carries the progress; a `status` one makes the hub read the row
 * (once for every stream of that job, and the jobs announced together in one query). Pub/sub
 * keeps nothing, so every heartbeat (and every reconnect to Redis) also reads the rows of all
 * streamed jobs: a lost announcement delays an event, it never loses a state.
 */
export function createJobEventHub(options: {
  subscriber: Redis;
  channel: string;
  jobs: Pick<JobRepository, 'findByIds'>;
  logger: Logger;
  /** Open streams, for /metrics. */
  gauge?: Gauge;
  heartbeatMs?: number;
}): JobEventHub {
  const { subscriber, channel, logger } = options;
  const streams = new Map<string, Set<JobEventStream>>();
  let size = 0;
  /** Jobs announced since the last read was sent; read together on the next tick. */
  let toRead = new Set<string>();
  let readScheduled = false;
  let refreshing = false;
  let started = false;

  async function readAndOffer(ids: string[]): Promise<void> {
    const rows = await options.jobs.findByIds(ids);
    for (const row of rows) {
      for (const stream of [...(streams.get(row.id) ?? [])]) stream.offerRow(row);
    }
  }
  const logReadError = (error: unknown) =>
    logger.warn(
      { err: error },
      'could not read the streamed jobs; trying again on the next change',
    );

  function scheduleRead(jobId: string): void {
    toRead.add(jobId);
    if (readScheduled) return;
    readScheduled = true;
    setImmediate(() => {
      readScheduled = false;
      const ids = [...toRead];
      toRead = new Set();
      readAndOffer(ids).catch(logReadError);
    });
  }

  /** Reads every streamed job's row again (one query), unless the last such read still runs. */
  function refreshAll(): void {
    if (refreshing || streams.size === 0) return;
    refreshing = true;
    readAndOffer([...streams.keys()])
      .catch(logReadError)
      .finally(() => {
        refreshing = false;
      });
  }

  subscriber.on('message', (from: string, text: string) => {
    // every job's every change arrives here: with no stream open, nothing is worth parsing
    if (from !== channel || streams.size === 0) return;
    const message = decodeJobEvent(text);
    if (!message || !streams.has(message.jobId)) return;
    if (message.kind === 'progress') {
      for (const stream of streams.get(message.jobId) ?? []) stream.offerProgress(message.progress);
    } else {
      scheduleRead(message.jobId);
    }
  });
  // ioredis subscribes again by itself after a reconnect; what was announced meanwhile is read
  subscriber.on('ready', () => {
    if (started) refreshAll();
  });

  const heartbeat = setInterval(() => {
    for (const set of streams.values()) for (const stream of set) stream.heartbeat();
    refreshAll();
  }, options.heartbeatMs ?? EVENT_HEARTBEAT_MS);
  heartbeat.unref();

  return {
    get size() {
      return size;
    },
    async start() {
      await subscriber.subscribe(channel);
      started = true;
    },
    add(stream) {
      const set = streams.get(stream.jobId) ?? new Set();
      if (set.has(stream)) return;
      set.add(stream);
      streams.set(stream.jobId, set);
      size += 1;
      options.gauge?.inc();
    },
    remove(stream) {
      const set = streams.get(stream.jobId);
      if (!set?.delete(stream)) return;
      if (set.size === 0) streams.delete(stream.jobId);
      size -= 1;
      options.gauge?.dec();
    },
    async close() {
      clearInterval(heartbeat);
      for (const set of streams.values()) for (const stream of set) stream.end();
      subscriber.disconnect();
    },
  };
}

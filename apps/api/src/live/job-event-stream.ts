import type { JobProgress, JobRecord } from '@repo/db';
import { FINISHED_JOB_STATUSES } from '@repo/db';
import type { Response } from 'express';
import { jobResource } from '../job-resource.ts';

/** How long an EventSource waits before it reconnects after the stream ends or breaks. */
export const RECONNECT_AFTER_MS = 2_000;
/**
 * The most a client may leave unread before its stream is closed: a client that stopped reading
 * would otherwise hold the events in this process's memory (it reconnects and gets the state).
 */
const MAX_UNREAD_BYTES = 1_048_576;

const FINISHED: ReadonlySet<string> = new Set(FINISHED_JOB_STATUSES);

/**
 * One client's Server-Sent Events about one job. Written by hand on the Express response: what
 * an SSE library adds (in-process channels, sessions) is not what is needed here — events come
 * from one Redis subscriber and from row reads, and each stream must skip what it has already
 * sent, which is a few lines over `res.write`.
 *
 * Event ids are the time (ms) of the row write the event shows — its updatedAt, or its
 * progress's updatedAt, which share one clock — so they only grow, and a reconnecting client's
 * Last-Event-ID says which progress it has already seen.
 */
export class JobEventStream {
  /** The row last shown (its updatedAt, ms): older rows read later are ignored. */
  private shownRowAt = Number.NEGATIVE_INFINITY;
  private shownStatus: string | null = null;
  private shownProgressAt: number;
  private opened = false;
  private ended = false;
  /** What the hub offered while the first row was still being read: shown right after it. */
  private offeredBeforeOpen: { row?: JobRecord; progress?: JobProgress } = {};

  readonly jobId: string;
  private readonly res: Response;

  constructor(jobId: string, res: Response, lastEventId: number | null) {
    this.jobId = jobId;
    this.res = res;
    this.shownProgressAt = lastEventId ?? Number.NEGATIVE_INFINITY;
  }

  get isOpen(): boolean {
    return this.opened && !this.ended && !this.res.writableEnded && !this.res.destroyed;
  }

  /**
   * Sends the headers, the reconnection delay and `row` (the state at connect), then whatever
   * the hub offered while that row was being read; the stream is open from here on.
   */
  open(row: JobRecord): void {
    this.res.status(200);
    this.res.set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      // no-transform: proxies must not compress or otherwise hold events back
      'Cache-Control': 'no-cache, no-transform',
      // nginx-style proxies buffer responses unless told not to
      'X-Accel-Buffering': 'no',
    });
    this.res.flushHeaders();
    this.opened = true;
    this.write(`retry: ${RECONNECT_AFTER_MS}\n\n`);
    this.offerRow(row);
    const { row: laterRow, progress } = this.offeredBeforeOpen;
    this.offeredBeforeOpen = {};
    if (laterRow) this.offerRow(laterRow);
    if (progress) this.offerProgress(progress);
  }

  /**
   * Shows the row: a `status` event when its status differs from the one shown last (always on
   * the first row), a `progress` event when its progress is newer than the one shown. Ends the
   * stream after a finished status.
   */
  offerRow(row: JobRecord): void {
    if (!this.opened) {
      const earlier = this.offeredBeforeOpen.row;
      if (!earlier || earlier.updatedAt <= row.updatedAt) this.offeredBeforeOpen.row = row;
      return;
    }
    if (!this.isOpen) return;
    const rowAt = row.updatedAt.getTime();
    if (rowAt < this.shownRowAt) return;
    this.shownRowAt = rowAt;
    if (row.status !== this.shownStatus) {
      this.shownStatus = row.status;
      this.event('status', rowAt, jobResource(row));
    }
    const progress = row.progress as JobProgress | null;
    if (progress && !FINISHED.has(row.status)) this.offerProgress(progress);
    if (FINISHED.has(row.status)) this.end();
  }

  /** Shows progress newer than the progress shown last. */
  offerProgress(progress: JobProgress): void {
    if (!this.opened) {
      this.offeredBeforeOpen.progress = progress;
      return;
    }
    if (!this.isOpen || FINISHED.has(this.shownStatus ?? '')) return;
    const at = Date.parse(progress.updatedAt);
    if (!(at > this.shownProgressAt)) return;
    this.shownProgressAt = at;
    this.event('progress', at, { id: this.jobId, progress });
  }

  /** A comment line: keeps proxies and clients from taking a quiet stream for a dead one. */
  heartbeat(): void {
    if (this.isOpen) this.write(': heartbeat\n\n');
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.res.writableEnded) this.res.end();
  }

  private event(name: string, id: number, data: unknown): void {
    this.write(`id: ${id}\nevent: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private write(chunk: string): void {
    if (this.res.writableLength > MAX_UNREAD_BYTES) {
      this.ended = true;
      this.res.destroy();
      return;
    }
    this.res.write(chunk);
  }
}

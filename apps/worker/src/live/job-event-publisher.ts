import type { JobProgress } from '@repo/db';
import { encodeJobEvent, type JobEventMessage } from '@repo/jobs';
import type { Logger } from '@repo/logger';
import type { Redis } from 'ioredis';

/** Announces a job's changes to the api processes streaming its events (GET /v1/jobs/:id/events). */
export interface JobEventPublisher {
  /** The row's status has changed (it is written already). */
  status(jobId: string): void;
  /** The row's progress has changed (it is written already). */
  progress(jobId: string, progress: JobProgress): void;
  /** Sends what is still pending and waits for what was sent: before its connection closes. */
  drain(): Promise<void>;
}

/**
 * Publishes without waiting: an announcement is a hint to re-read or forward, the row is the
 * record, and the api re-reads the rows it streams on every heartbeat, so a lost message delays
 * an event but never loses a state. A failure is logged once per outage, not once per job.
 *
 * The announcements made in one turn of the event loop (the jobs of one group-commit batch end
 * together) go to Redis as one pipeline: one write instead of one per PUBLISH, which was about
 * 7% of the worker's CPU per job (bench/findings.md). Each is still a PUBLISH of its own, in order.
 * Give it a connection of its own: a pipeline copies every script defined on the connection it is
 * made from (BullMQ defines 64 on the worker's), which costs as much as the writes it saves.
 */
export function createJobEventPublisher(options: {
  redis: Redis;
  channel: string;
  logger: Logger;
}): JobEventPublisher {
  let failing = false;
  let pending: JobEventMessage[] = [];
  const inFlight = new Set<Promise<void>>();
  const reportFailure = (error: unknown, jobId: string | undefined) => {
    if (failing) return;
    failing = true;
    options.logger.warn(
      { err: error, jobId },
      'could not announce a job change; event streams catch up on their next heartbeat',
    );
  };
  function flush(): void {
    if (pending.length === 0) return;
    const messages = pending;
    pending = [];
    const pipeline = options.redis.pipeline();
    for (const message of messages) pipeline.publish(options.channel, encodeJobEvent(message));
    const sent = pipeline.exec().then(
      (results) => {
        const failed = results?.findIndex(([error]) => error) ?? -1;
        if (failed === -1) failing = false;
        else reportFailure(results?.[failed]?.[0], messages[failed]?.jobId);
      },
      (error: unknown) => reportFailure(error, messages[0]?.jobId),
    );
    inFlight.add(sent);
    sent.finally(() => inFlight.delete(sent));
  }
  function publish(message: JobEventMessage): void {
    pending.push(message);
    if (pending.length === 1) setImmediate(flush);
  }
  return {
    status: (jobId) => publish({ kind: 'status', jobId }),
    progress: (jobId, progress) => publish({ kind: 'progress', jobId, progress }),
    async drain() {
      // the flush already scheduled then finds nothing pending
      if (pending.length > 0) flush();
      await Promise.all(inFlight);
    },
  };
}

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
}

/**
 * Publishes without waiting: an announcement is a hint to re-read or forward, the row is the
 * record, and the api re-reads the rows it streams on every heartbeat, so a lost message delays
 * an event but never loses a state. A failure is logged once per outage, not once per job.
 */
export function createJobEventPublisher(options: {
  redis: Redis;
  channel: string;
  logger: Logger;
}): JobEventPublisher {
  let failing = false;
  function publish(message: JobEventMessage): void {
    options.redis.publish(options.channel, encodeJobEvent(message)).then(
      () => {
        failing = false;
      },
      (error: unknown) => {
        if (failing) return;
        failing = true;
        options.logger.warn(
          { err: error, jobId: message.jobId },
          'could not announce a job change; event streams catch up on their next heartbeat',
        );
      },
    );
  }
  return {
    status: (jobId) => publish({ kind: 'status', jobId }),
    progress: (jobId, progress) => publish({ kind: 'progress', jobId, progress }),
  };
}

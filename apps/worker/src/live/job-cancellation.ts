import type { JobRepository } from '@repo/db';
import type { Logger } from '@repo/logger';
import type { Redis } from 'ioredis';

/** The reason a cancelled job's AbortSignal carries. */
export class JobCancelledError extends Error {
  override name = 'JobCancelledError';
}

export interface JobCancellation {
  /** Aborts (with a JobCancelledError) when a client cancels the job. */
  signal: AbortSignal;
  /** The attempt has ended: stop listening for it. */
  release(): void;
}

export interface CancellationListener {
  /** Subscribes; resolves once Redis has confirmed it, so no request published later is missed. */
  start(): Promise<void>;
  /** Listens for cancellations of the job this process is about to run. */
  watch(jobId: string): JobCancellation;
  close(): Promise<void>;
}

/**
 * Tells the jobs running in this process that a client cancelled them: the api publishes the job
 * id on `channel` (any worker may hold the job; only the one that does reacts). `subscriber` is a
 * connection of its own: a subscribed connection can do nothing else. A request published while
 * the connection was down is lost to pub/sub, so on every reconnect the rows of the jobs running
 * here are read again, and a job whose `cancelRequestedAt` is set is aborted then.
 */
export function createCancellationListener(options: {
  subscriber: Redis;
  channel: string;
  jobs: Pick<JobRepository, 'findByIds'>;
  logger: Logger;
}): CancellationListener {
  const { subscriber, channel, logger } = options;
  const running = new Map<string, Set<AbortController>>();
  let connectedOnce = false;

  function abort(jobId: string, how: string): void {
    const controllers = running.get(jobId);
    if (!controllers) return;
    logger.info({ jobId, how }, 'job cancelled on request: aborting its handler');
    for (const controller of controllers) {
      controller.abort(new JobCancelledError(`job ${jobId} was cancelled on request`));
    }
  }

  async function catchUp(): Promise<void> {
    if (running.size === 0) return;
    const rows = await options.jobs.findByIds([...running.keys()]);
    for (const row of rows) {
      if (row.cancelRequestedAt) abort(row.id, 'read after a reconnect');
    }
  }

  subscriber.on('message', (from: string, jobId: string) => {
    if (from === channel) abort(jobId.toLowerCase(), 'message');
  });
  // ioredis subscribes again by itself after a reconnect; what was published meanwhile is read
  subscriber.on('ready', () => {
    if (!connectedOnce) return;
    catchUp().catch((error: unknown) =>
      logger.warn({ err: error }, 'could not check the running jobs for cancellations'),
    );
  });

  return {
    async start() {
      await subscriber.subscribe(channel);
      connectedOnce = true;
    },
    watch(jobId) {
      const id = jobId.toLowerCase();
      const controller = new AbortController();
      const controllers = running.get(id) ?? new Set();
      controllers.add(controller);
      running.set(id, controllers);
      return {
        signal: controller.signal,
        release() {
          controllers.delete(controller);
          if (controllers.size === 0 && running.get(id) === controllers) running.delete(id);
        },
      };
    },
    async close() {
      subscriber.disconnect();
    },
  };
}

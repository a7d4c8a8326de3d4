import { type JobQueue, type ScheduleDeclaration, syncSchedules } from '@repo/jobs';
import type { Logger } from '@repo/logger';
import type { Redis } from 'ioredis';
import type { Counter } from 'prom-client';

export interface ScheduleSyncLoop {
  /** Resolves after the first successful sync. */
  readonly firstSync: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Syncs now and then every `intervalMs`. A failed sync (Redis down) is logged and retried on a
 * short interval rather than crashing beat: the schedules already in Redis keep firing meanwhile.
 */
export function startScheduleSync(options: {
  queue: JobQueue;
  redis: Redis;
  prefix: string;
  schedules: readonly ScheduleDeclaration[];
  intervalMs: number;
  retryMs?: number;
  logger: Logger;
  syncs?: Counter<'result'>;
}): ScheduleSyncLoop {
  const { logger, intervalMs, retryMs = Math.min(5_000, intervalMs) } = options;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let inFlight: Promise<boolean> = Promise.resolve(true);
  let markFirstSync: () => void = () => undefined;
  const firstSync = new Promise<void>((resolve) => {
    markFirstSync = resolve;
  });

  const syncOnce = async (): Promise<boolean> => {
    try {
      const result = await syncSchedules(options.queue, options.schedules, options);
      options.syncs?.inc({ result: 'ok' });
      logger.info(result, 'schedules synced');
      markFirstSync();
      return true;
    } catch (error) {
      options.syncs?.inc({ result: 'error' });
      logger.error({ err: error }, 'schedule sync failed; retrying');
      return false;
    }
  };

  const tick = () => {
    inFlight = syncOnce();
    void inFlight.then((ok) => {
      if (!stopped) timer = setTimeout(tick, ok ? intervalMs : retryMs);
    });
  };
  tick();

  return {
    firstSync,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await inFlight;
    },
  };
}

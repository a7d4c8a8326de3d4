import { randomUUID } from 'node:crypto';
import {
  type DefinedSchedules,
  type JobQueue,
  leaveSchedules,
  type ScheduleDeclaration,
  syncSchedules,
} from '@repo/jobs';
import type { Logger } from '@repo/logger';
import type { Redis } from 'ioredis';
import type { Counter, Gauge } from 'prom-client';

export interface ScheduleSyncLoop {
  /** Resolves after the first successful sync. */
  readonly firstSync: Promise<void>;
  /**
   * Syncs now rather than at the next interval (a schedule changed); while a sync runs, once more
   * right after it, however many times this is called meanwhile.
   */
  resync(): void;
  stop(): Promise<void>;
}

/**
 * How many resync intervals a beat counts as running after a sync: one missed sync (a slow lock,
 * a blip) must not let an older beat take over, while a beat that was killed stops counting soon.
 */
export const INSTANCE_TTL_INTERVALS = 3;
const LEAVE_TIMEOUT_MS = 2_000;
/** Why a schedule defined through the API can stay out of Redis: an operator has to act. */
export const LEFT_OUT_REASONS = ['invalid', 'declared-in-code'] as const;

/**
 * Syncs now and then every `intervalMs`. A failed sync (Redis down) is logged and retried on a
 * short interval rather than crashing beat: the schedules already in Redis keep firing meanwhile.
 * While a beat with a newer list of schedules runs (a deploy), this one's syncs change nothing.
 * `loadDefined` adds the schedules defined through the API (see syncSchedules).
 */
export function startScheduleSync(options: {
  queue: JobQueue;
  redis: Redis;
  prefix: string;
  schedules: readonly ScheduleDeclaration[];
  loadDefined?: () => Promise<DefinedSchedules>;
  intervalMs: number;
  retryMs?: number;
  logger: Logger;
  syncs?: Counter<'result'>;
  /** Schedules defined through the API that the last sync left out of Redis, by reason. */
  leftOut?: Gauge<'reason'>;
}): ScheduleSyncLoop {
  const { logger, intervalMs, retryMs = Math.min(5_000, intervalMs) } = options;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let inFlight: Promise<boolean> = Promise.resolve(true);
  let syncing = false;
  let syncAgain = false;
  let markFirstSync: () => void = () => undefined;
  const firstSync = new Promise<void>((resolve) => {
    markFirstSync = resolve;
  });

  const owner = {
    redis: options.redis,
    prefix: options.prefix,
    instanceId: randomUUID(),
  };

  const syncOnce = async (): Promise<boolean> => {
    try {
      const result = await syncSchedules(options.queue, options.schedules, {
        ...owner,
        instanceTtlMs: INSTANCE_TTL_INTERVALS * intervalMs,
        ...(options.loadDefined === undefined ? {} : { loadDefined: options.loadDefined }),
      });
      if (result.supersededBy === undefined) {
        options.syncs?.inc({ result: 'ok' });
        logger.info(result, 'schedules synced');
        // stale reads are normal between replicas; a schedule that cannot run is for an operator
        const refused = result.skipped.filter(
          (skip) => skip.reason === 'invalid' || skip.reason === 'declared-in-code',
        );
        for (const reason of LEFT_OUT_REASONS) {
          options.leftOut?.set({ reason }, refused.filter((skip) => skip.reason === reason).length);
        }
        if (refused.length > 0) {
          logger.warn(
            { skipped: refused },
            'schedules defined through the API left out of Redis: invalid for this build, or their key is declared in code',
          );
        }
      } else {
        options.syncs?.inc({ result: 'superseded' });
        logger.info(
          { generation: result.generation, supersededBy: result.supersededBy },
          'schedules left as they are: a beat with a newer list of schedules is running',
        );
      }
      markFirstSync();
      return true;
    } catch (error) {
      options.syncs?.inc({ result: 'error' });
      logger.error({ err: error }, 'schedule sync failed; retrying');
      return false;
    }
  };

  const tick = () => {
    clearTimeout(timer);
    if (syncing) {
      syncAgain = true;
      return;
    }
    syncing = true;
    inFlight = syncOnce();
    void inFlight.then((ok) => {
      syncing = false;
      if (stopped) return;
      if (syncAgain) {
        syncAgain = false;
        tick();
      } else {
        timer = setTimeout(tick, ok ? intervalMs : retryMs);
      }
    });
  };
  tick();

  return {
    firstSync,
    resync() {
      if (!stopped) tick();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await inFlight;
      // an older beat still running (a rollback) takes over at its next sync, not after the TTL;
      // with Redis unreachable this would wait for it, so it gets a short time of its own
      const left = leaveSchedules(owner).then(
        () => 'left' as const,
        (error: unknown) => error,
      );
      let giveUp: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        left,
        new Promise<'timeout'>((resolve) => {
          giveUp = setTimeout(resolve, LEAVE_TIMEOUT_MS, 'timeout');
        }),
      ]);
      clearTimeout(giveUp);
      if (outcome !== 'left') {
        logger.warn(
          outcome === 'timeout' ? { timeoutMs: LEAVE_TIMEOUT_MS } : { err: outcome },
          'could not deregister this beat; its registration expires by itself',
        );
      }
    },
  };
}

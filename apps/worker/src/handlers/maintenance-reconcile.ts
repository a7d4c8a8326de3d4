import { JOB_LIST_MAX_LIMIT, type JobRepository, type StaleCursor, type StaleJob } from '@repo/db';
import {
  type ArrivalOptions,
  type EnqueueJobInput,
  enqueueJobs,
  InvalidPayloadError,
  type JobQueue,
  type JobType,
  parseJobPayload,
  resolveJobType,
  UnknownJobTypeError,
} from '@repo/jobs';
import type { Logger } from '@repo/logger';
import type { MaintenanceConfig } from '../env.ts';
import { lookUpQueueJobs, type QueueJobState } from '../queue-job-states.ts';
import type { JobHandler } from './job-handler.ts';

/** How many stale jobs one run looks at, a page at a time; the next run goes on from there. */
export interface ReconcileLimits {
  pageSize: number;
  jobsPerRun: number;
}

const DEFAULT_LIMITS: ReconcileLimits = { pageSize: JOB_LIST_MAX_LIMIT, jobsPerRun: 50_000 };

// Where the last run stopped, beside the queue's keys: BullMQ job ids with a colon have three
// parts ("repeat:<scheduler>:<millis>"), so no job can be named this. Lost, the next run starts
// from the oldest stale job again.
const CURSOR_KEY = 'reconcile:cursor';

const LOST_WHILE_RUNNING =
  'its BullMQ job disappeared while it was running (Redis restarted without its data, or evicted it); queued again';

/**
 * Repairs the jobs PostgreSQL and Redis disagree about. The API commits a row and then
 * enqueues; a crash (or a Redis outage) between the two leaves a job queued with no BullMQ job,
 * and Redis can lose the job of one that is running. Every queued or running job untouched for
 * RECONCILE_AFTER is checked against its BullMQ job (looked up by the id recorded on the row):
 *
 * - waiting, delayed or active: BullMQ will run it, or is running it on a slow worker — left alone;
 * - missing: queued again (a running job's interrupted attempt is given back, as BullMQ does for a
 *   stalled job) and enqueued under the row id with the attempts it has left, so running this
 *   twice, or next to a late original enqueue, adds nothing twice. A page's re-added jobs go to
 *   Redis together, and with `arrival` are parked on arrival as one batch, as the api's are
 *   (packages/jobs: park on arrival): after Redis lost its data, a key's backlog does not all
 *   land in wait, where the workers would have to fetch and park it one job at a time;
 * - failed for good in BullMQ (a failure the row could not be told of): marked failed with
 *   BullMQ's reason.
 *
 * The jobs are walked oldest first, a page at a time, and a run stops after `jobsPerRun`; the
 * next run goes on where it stopped and starts over once it has reached the newest. Fine jobs
 * never hide the ones that need repair, however many there are.
 */
export function maintenanceReconcile(deps: {
  config: MaintenanceConfig;
  jobs: Pick<JobRepository, 'findStale' | 'requeue' | 'markFailed' | 'expireOverdue'>;
  queue: JobQueue;
  limits?: ReconcileLimits;
  /** Park on arrival for the re-added jobs, under the workers' limits; without, they go to wait. */
  arrival?: ArrivalOptions;
}): JobHandler<'maintenance.reconcile'> {
  const { pageSize, jobsPerRun } = deps.limits ?? DEFAULT_LIMITS;
  return async (_payload, { logger }) => {
    const expired = await expireOverdue(deps, pageSize, jobsPerRun, logger);
    const before = new Date(Date.now() - deps.config.RECONCILE_AFTER);
    let after = await readCursor(deps.queue, logger);
    let checked = 0;
    let caughtUp = false;
    const outcome = { requeued: 0, failed: 0 };
    while (checked < jobsPerRun) {
      const limit = Math.min(pageSize, jobsPerRun - checked);
      const page = await deps.jobs.findStale({ before, after, limit });
      checked += page.length;
      const states = await lookUpQueueJobs(
        deps.queue,
        page.map((job) => job.queueJobId),
      );
      const toEnqueue: EnqueueJobInput<JobType>[] = [];
      for (const [index, job] of page.entries()) {
        const result = await repair(deps, job, states[index] ?? { state: 'pending' }, logger);
        if (result === 'failed') outcome.failed += 1;
        else if (result) toEnqueue.push(result);
      }
      // under the row ids: a run that fails here and the next one add nothing twice
      await enqueueJobs(deps.queue, toEnqueue, deps.arrival ? { arrival: deps.arrival } : {});
      outcome.requeued += toEnqueue.length;
      after = page.at(-1) ?? after;
      if (page.length < limit) {
        caughtUp = true;
        break;
      }
    }
    await writeCursor(deps.queue, caughtUp ? null : after);
    if (outcome.requeued > 0 || outcome.failed > 0) {
      logger.warn({ ...outcome, checked }, 'repaired jobs whose BullMQ job was missing or failed');
    }
    return { checked, ...outcome, expired, caughtUp };
  };
}

/**
 * Ends the queued jobs whose ttl has run out without a worker starting them, and takes them off
 * the queue. A worker that takes one up anyway (it held the job at that moment) finds its row
 * expired and skips it, as it skips a cancelled job.
 */
async function expireOverdue(
  deps: { jobs: Pick<JobRepository, 'expireOverdue'>; queue: JobQueue },
  pageSize: number,
  jobsPerRun: number,
  logger: Logger,
): Promise<number> {
  let expired = 0;
  while (expired < jobsPerRun) {
    const limit = Math.min(pageSize, jobsPerRun - expired);
    const page = await deps.jobs.expireOverdue({ limit });
    expired += page.length;
    // BullMQ's remove leaves a job a worker holds the lock of (it answers 0); that worker skips it
    await Promise.all(page.map((job) => deps.queue.remove(job.queueJobId)));
    if (page.length < limit) break;
  }
  if (expired > 0) logger.info({ expired }, 'expired queued jobs not started within their ttl');
  return expired;
}

/** What to do with one stale job: nothing, marked failed, or the job to enqueue again. */
async function repair(
  deps: {
    jobs: Pick<JobRepository, 'requeue' | 'markFailed'>;
  },
  stale: StaleJob,
  queued: QueueJobState,
  logger: Logger,
): Promise<EnqueueJobInput<JobType> | 'failed' | null> {
  switch (queued.state) {
    case 'pending':
      return null;
    // The processor records a success before BullMQ completes the job, so a row still active
    // here was read before that write landed.
    case 'completed':
      return null;
    case 'failed': {
      const failed = await deps.jobs.markFailed(stale.id, { error: queued.reason, final: true });
      return failed ? 'failed' : null;
    }
    case 'missing':
      break;
  }
  const row = await deps.jobs.requeue(
    stale,
    stale.status === 'running' ? LOST_WHILE_RUNNING : undefined,
  );
  // a worker or the API changed it since it was read: it is in hand
  if (!row) return null;
  const attemptsLeft = row.maxAttempts - row.attempts;
  try {
    if (attemptsLeft < 1) {
      throw new NoAttemptsLeftError(
        `${row.error ?? 'the job failed'} (its ${row.maxAttempts} attempts are used up)`,
      );
    }
    // checked here, one job at a time, so that one rejected payload fails only its own job
    // rather than the page's whole enqueue
    const type = resolveJobType(row.type);
    return {
      id: row.id,
      type,
      payload: parseJobPayload(type, row.payload),
      runAt: row.runAt,
      maxAttempts: attemptsLeft,
      concurrencyKey: row.concurrencyKey,
      priority: row.priority,
      // the worker numbers the attempts on from these without reading the row
      rowCount: { attemptsUsed: row.attempts, expiresAt: row.expiresAt?.toISOString() ?? null },
    };
  } catch (error) {
    if (
      !(
        error instanceof InvalidPayloadError ||
        error instanceof UnknownJobTypeError ||
        error instanceof NoAttemptsLeftError
      )
    ) {
      throw error;
    }
    // a job the current contract rejects, or one with nothing left to try, can never run:
    // record why instead of retrying forever
    await deps.jobs.markFailed(row.id, { error: error.message, final: true });
    logger.warn({ jobId: row.id, err: error }, 'stale job cannot be enqueued; marked failed');
    return 'failed';
  }
}

class NoAttemptsLeftError extends Error {
  override readonly name = 'NoAttemptsLeftError';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function readCursor(queue: JobQueue, logger: Logger): Promise<StaleCursor | null> {
  const client = await queue.getBackend().client;
  const key = queue.toKey(CURSOR_KEY);
  const stored = await client.get(key);
  if (stored === null) return null;
  try {
    const { updatedAt, id } = JSON.parse(stored) as { updatedAt?: unknown; id?: unknown };
    const at = new Date(typeof updatedAt === 'string' ? updatedAt : Number.NaN);
    if (typeof id === 'string' && UUID.test(id) && !Number.isNaN(at.getTime())) {
      return { updatedAt: at, id };
    }
  } catch {
    // not JSON: reported below like any other unreadable cursor
  }
  // nothing is lost by starting from the oldest stale job again
  logger.warn({ key, stored: stored.slice(0, 200) }, 'reconcile cursor unreadable; starting over');
  return null;
}

async function writeCursor(queue: JobQueue, cursor: StaleCursor | null): Promise<void> {
  const client = await queue.getBackend().client;
  const key = queue.toKey(CURSOR_KEY);
  if (cursor === null) await client.del(key);
  else await client.set(key, JSON.stringify({ updatedAt: cursor.updatedAt, id: cursor.id }));
}

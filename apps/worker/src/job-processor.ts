import {
  type AttemptOutcome,
  DatabaseUnavailableError,
  type JobAttemptLog,
  type JobRepository,
} from '@repo/db';
import {
  type FairScheduler,
  InvalidPayloadError,
  isJobType,
  type JobPayload,
  type JobType,
  parseJobPayload,
  type QueuedRowCount,
  resolveJobType,
  splitQueuedJobData,
  UnknownJobTypeError,
} from '@repo/jobs';
import { type Logger, lazyChild } from '@repo/logger';
import { activeTraceId, inSpan, traceIdOfMetadata } from '@repo/tracing';
import { DelayedError, type Job, UnrecoverableError, WaitingError } from 'bullmq';
import { v5 as uuidv5 } from 'uuid';
import type { AttemptDetails, JobHandlers } from './handlers/index.ts';
import { type CancellationListener, JobCancelledError } from './live/job-cancellation.ts';
import type { JobEventPublisher } from './live/job-event-publisher.ts';
import { createProgressReporter } from './live/progress-reporter.ts';
import type { WorkerMetrics } from './metrics.ts';
import {
  createRunningStatus,
  RunningRefusedError,
  type RunningWriteOutcome,
} from './running-status.ts';

/** The reason `worker.cancelAllJobs` is given when shutdown runs out of time. */
export const SHUTDOWN_REASON = 'worker shutting down';

/**
 * How long a job waits before it is tried again when PostgreSQL cannot be reached. Such a try
 * uses up none of the job's attempts: an outage would otherwise exhaust them within seconds and
 * fail the job in BullMQ while its row, which could not be written, stayed queued for good.
 */
export const DATABASE_RETRY_DELAY_MS = 2_000;

// Scheduled runs get BullMQ ids like "repeat:<scheduler>:<millis>"; their rows get a UUID derived
// from that id, so a redelivered run finds the same row.
const SCHEDULED_RUN_NAMESPACE = '7d1c6f0e-3c0b-4b1e-9a59-2f8d1b9f3a10';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface JobProcessorDeps {
  jobs: Pick<
    JobRepository,
    | 'ensureScheduled'
    | 'findById'
    | 'markRunning'
    | 'markSucceeded'
    | 'markFailed'
    | 'markCancelled'
    | 'recordProgress'
    | 'expire'
  >;
  handlers: JobHandlers;
  /** Where each attempt is recorded when it ends (GET /v1/jobs/:id/attempts). */
  attempts: Pick<JobAttemptLog, 'record'>;
  logger: Logger;
  metrics: WorkerMetrics;
  /** Concurrency and rate limits per job type and key (packages/jobs README: fair execution). */
  fair: Pick<FairScheduler, 'isLimited' | 'admit' | 'release'>;
  /** Aborts a running job's handler when a client cancels it. */
  cancellation: Pick<CancellationListener, 'watch'>;
  /** Announces status and progress changes to the api's event streams. */
  events: Pick<JobEventPublisher, 'status' | 'progress'>;
  /**
   * How long a handler runs before `running` is written (JOB_RUNNING_STATUS_DELAY); 0 or omitted:
   * before every handler. Only for jobs whose BullMQ job carries the row's count (see
   * deferrableAttemptOf).
   */
  runningStatusDelayMs?: number;
}

/** A job whose payload matched its contract and that holds its fair-execution slots. */
interface AdmittedJob {
  id: string;
  type: JobType;
  payload: JobPayload<JobType>;
  /** What the row had counted when the BullMQ job was added; null when the job does not say. */
  rowCount: QueuedRowCount | null;
  signal: AbortSignal | undefined;
  token: string | undefined;
  jobLogger: Logger;
  /** What every line about the job carries (see runAndRecord), but the attempt. */
  jobFields: Record<string, unknown>;
}

/**
 * Runs one BullMQ job and keeps its Postgres row in step:
 * running (startedAt, attempts) → succeeded (result) | failed (error; final or awaiting retry).
 * A row that is cancelled or already finished is skipped, which makes redelivery harmless.
 * Three parameters, so BullMQ hands over the AbortSignal used at shutdown.
 */
export function createJobProcessor(deps: JobProcessorDeps) {
  // An outage postpones every job the worker picks up until it ends: the first postponement is
  // logged with the error's stack, the others with one line each, until a record is written again.
  const outage = { reported: false };
  const runAndRecord = runAndRecordJob(deps, outage);
  return (job: Job, token?: string, signal?: AbortSignal): Promise<unknown> =>
    // one span per attempt, a child of the enqueue span whose trace context the job carries
    inSpan(
      {
        name: `process ${isJobType(job.name) ? job.name : 'unknown'}`,
        kind: 'consumer',
        parentMetadata: job.opts.telemetry?.metadata,
        attributes: {
          'messaging.system': 'bullmq',
          'messaging.operation.type': 'process',
          'messaging.message.id': job.id ?? '',
          'jobstack.job.type': job.name,
          'jobstack.job.attempt': job.attemptsMade + 1,
        },
        // postponed or put back: the job goes on, the attempt did not fail
        isExpected: (error) => error instanceof DelayedError || error instanceof WaitingError,
      },
      () => processJobPostponingOnDatabaseOutage(job, token, signal),
    );

  async function processJobPostponingOnDatabaseOutage(
    job: Job,
    token?: string,
    signal?: AbortSignal,
  ): Promise<unknown> {
    try {
      return await runAndRecord(job, token, signal);
    } catch (error) {
      // Only the repository's typed error: it is thrown where PostgreSQL is called, so an error
      // of the job's own (a webhook destination refusing the connection) can never pass for one.
      if (!(error instanceof DatabaseUnavailableError) || !token) throw error;
      // The job is fine; its record cannot be written. Back to the queue, attempts untouched.
      // Should the handler have run already, it runs again then (delivery is at least once).
      await job.moveToDelayed(Date.now() + DATABASE_RETRY_DELAY_MS, token);
      deps.metrics.jobs.postponed(job.name);
      const details = {
        jobId: rowIdOf(job) ?? undefined,
        queueJobId: job.id,
        type: job.name,
        attempt: job.attemptsMade + 1,
        traceId: activeTraceId() ?? traceIdOfMetadata(job.opts.telemetry?.metadata),
        retryInMs: DATABASE_RETRY_DELAY_MS,
      };
      deps.logger.warn(
        outage.reported ? { ...details, reason: error.message } : { ...details, err: error },
        'PostgreSQL is unavailable: job postponed without using an attempt',
      );
      outage.reported = true;
      throw new DelayedError();
    }
  }
}

/** Runs the job's handler and writes each step to its row; a database outage propagates. */
function runAndRecordJob(deps: JobProcessorDeps, outage: { reported: boolean }) {
  async function runAndRecord(job: Job, token?: string, signal?: AbortSignal): Promise<unknown> {
    // BullMQ's count of this BullMQ job's tries
    const queueAttempt = job.attemptsMade + 1;
    const id = rowIdOf(job);
    // every line about a job carries these; `attempt` is BullMQ's until the row has counted it.
    // The trace id is this attempt's span's, or, with tracing off here, the one the job carries.
    const jobFields = {
      jobId: id ?? undefined,
      queueJobId: job.id,
      type: job.name,
      traceId: activeTraceId() ?? traceIdOfMetadata(job.opts.telemetry?.metadata),
    };
    // made when a line is written: a job that succeeds writes none
    const jobLogger = lazyChild(deps.logger, { ...jobFields, attempt: queueAttempt });

    let type: JobType;
    let payload: JobPayload<JobType>;
    const { payload: queuedPayload, concurrencyKey, rowCount } = splitQueuedJobData(job.data);
    try {
      type = resolveJobType(job.name);
      payload = parseJobPayload(type, queuedPayload);
    } catch (error) {
      if (!(error instanceof InvalidPayloadError || error instanceof UnknownJobTypeError))
        throw error;
      // retrying cannot fix a payload: fail for good, keep the worker going
      if (id) await deps.jobs.markFailed(id, { error: error.message, final: true });
      deps.metrics.jobs.attemptEnded(job.name, 'rejected');
      jobLogger.error({ err: error }, 'job rejected: it does not match the contract');
      throw new UnrecoverableError(error.message);
    }
    if (!id) {
      deps.metrics.jobs.attemptEnded(type, 'rejected');
      jobLogger.error('job rejected: it has no Postgres record');
      throw new UnrecoverableError(
        `job ${job.id} has no record in Postgres; enqueue jobs through the API or a schedule`,
      );
    }

    // Over a limit, the job is parked: back to BullMQ's delayed set, no attempt used, its row
    // still queued, until a slot frees (see the jobs package's README).
    const limited = deps.fair.isLimited(type, concurrencyKey) && token !== undefined;
    if (limited && !(await deps.fair.admit(job, token, type, concurrencyKey))) {
      deps.metrics.jobs.parked(type, 'admission');
      throw new DelayedError();
    }
    try {
      return await runAdmitted(job, {
        id,
        type,
        payload,
        rowCount,
        signal,
        token,
        jobLogger,
        jobFields,
      });
    } finally {
      if (limited) await deps.fair.release(job.id as string, type, concurrencyKey);
    }
  }

  async function runAdmitted(job: Job, admitted: AdmittedJob): Promise<unknown> {
    const { id, type, payload } = admitted;
    // the tries BullMQ gave this BullMQ job
    const queueAttempts = job.opts.attempts ?? 1;
    if (job.repeatJobKey && job.id) {
      await deps.jobs.ensureScheduled({
        id,
        queueJobId: job.id,
        type,
        payload,
        maxAttempts: queueAttempts,
        schedulerId: job.repeatJobKey,
      });
    }
    // watched before the attempt starts, so a request made from now on reaches it; one made
    // earlier is on the row, and markRunning reports it (written before the handler, or once it
    // has run for the delay), or the success ends the job cancelled
    const cancellation = deps.cancellation.watch(id);
    try {
      return await runAttempt(job, { ...admitted, cancellation: cancellation.signal });
    } finally {
      cancellation.release();
    }
  }

  async function runAttempt(
    job: Job,
    {
      id,
      type,
      payload,
      rowCount,
      signal,
      token,
      jobLogger,
      jobFields,
      cancellation,
    }: AdmittedJob & { cancellation: AbortSignal },
  ): Promise<unknown> {
    const queueAttempt = job.attemptsMade + 1;
    const queueAttempts = job.opts.attempts ?? 1;
    const running = createRunningStatus(() =>
      deps.jobs.markRunning(id, queueAttempt, queueAttempts),
    );
    /** Refused to start: a queued job not started within its ttl ends expired, never run. */
    const skip = async () => {
      const expired = await deps.jobs.expire(id);
      if (expired) {
        deps.metrics.jobs.attemptEnded(type, 'expired');
        jobLogger.info({ expiresAt: expired.expiresAt }, 'job expired: not started within its ttl');
        return { skipped: expired.status };
      }
      const existing = await deps.jobs.findById(id);
      if (!existing) throw new UnrecoverableError(`job ${id} has no record in Postgres`);
      deps.metrics.jobs.attemptEnded(type, 'skipped');
      jobLogger.info({ status: existing.status }, 'job skipped: it is no longer queued');
      return { skipped: existing.status };
    };
    const delayMs = deps.runningStatusDelayMs ?? 0;
    const deferrable = delayMs > 0 ? deferrableAttemptOf(job, rowCount) : null;
    // the row's count, which goes on from attempts used before this BullMQ job (a job reconcile
    // enqueued again with the attempts it had left)
    let attempt: number;
    let maxAttempts: number;
    // aborts the handler when the deferred `running` write is refused, fails, or finds the
    // cancellation requested (the api answered 202 while the row still said queued)
    const startAbort = new AbortController();
    const rowCancelled = new AbortController();
    const cancelled = AbortSignal.any([cancellation, rowCancelled.signal]);
    if (deferrable) {
      ({ attempt, maxAttempts } = deferrable);
    } else {
      const started = await running.write();
      outage.reported = false;
      if (!started) return await skip();
      ({ attempt, maxAttempts } = started);
      if (started.cancelRequested) {
        // cancelled while an earlier delivery of it ran (a redelivery after a stall): not run again
        await deps.jobs.markCancelled(id);
        deps.events.status(id);
        deps.metrics.jobs.attemptEnded(type, 'cancelled');
        deps.logger.info(
          { ...jobFields, attempt },
          'job cancelled on request before this attempt started; not run',
        );
        return { cancelled: true };
      }
      deps.events.status(id);
    }
    const logger = lazyChild(deps.logger, { ...jobFields, attempt });
    if (deferrable) {
      running.defer(delayMs, (outcome: RunningWriteOutcome) => {
        if ('error' in outcome) {
          startAbort.abort(outcome.error);
        } else if (!outcome.started) {
          startAbort.abort(new RunningRefusedError(`job ${id} may not run: it is not queued`));
        } else {
          outage.reported = false;
          deps.events.status(id);
          if (outcome.started.cancelRequested) {
            logger.info('job cancelled on request: aborting its handler');
            rowCancelled.abort(new JobCancelledError(`job ${id} was cancelled on request`));
          }
        }
      });
    }
    /** The row is running (written now, if it was deferred); null when it may not run. */
    const ensureRunning = async () => {
      const started = await running.write();
      if (started?.cancelRequested && !rowCancelled.signal.aborted) {
        rowCancelled.abort(new JobCancelledError(`job ${id} was cancelled on request`));
      }
      return started;
    };
    if (queueAttempt === 1) {
      // due: when it was enqueued, or its run time; a later attempt's due time (after a backoff)
      // is not recorded, so only first attempts are timed. A job parked on arrival carries the
      // park's delay instead of a run time: woken before it ran out, it was due when enqueued
      // (one that waited out its recheck is timed from then, as if its delay were a run time).
      const delayedUntil = job.timestamp + (job.opts.delay ?? 0);
      const dueAt = delayedUntil > Date.now() ? job.timestamp : delayedUntil;
      deps.metrics.jobs.started(type, (Date.now() - dueAt) / 1000);
    }

    const startedAt = performance.now();
    const seconds = () => (performance.now() - startedAt) / 1000;
    const attemptStarted = new Date();
    const details: AttemptDetails = {};
    /**
     * The attempt's history row, written just before the status, so that a job seen finished has
     * its last attempt listed. A history that cannot be written is logged here and costs the job
     * nothing (its row is the record that counts). A success's row is written with its status
     * (markSucceeded), under the same rules.
     */
    const recordAttempt = (outcome: AttemptOutcome, error?: unknown) =>
      deps.attempts
        .record({
          jobId: id,
          attempt,
          startedAt: attemptStarted,
          finishedAt: new Date(),
          outcome,
          error: error === undefined ? null : describeError(error),
          httpStatus: details.httpStatus ?? null,
        })
        .catch((failure: unknown) =>
          logger.warn({ err: failure, outcome }, 'the attempt could not be added to the history'),
        );
    const progress = createProgressReporter({
      write: async (report) => {
        // progress is recorded on a running row only
        if (!(await ensureRunning())) return;
        const written = await deps.jobs.recordProgress(id, report);
        if (!written) return;
        deps.events.progress(id, written);
        // the dashboard (bull-board) shows BullMQ's own progress field
        await job.updateProgress(written.percent);
      },
      onError: (error) => logger.warn({ err: error }, 'could not record the job progress'),
    });
    /** The handler ran to its end or gave up after a cancellation: the job ends cancelled. */
    const endCancelled = async (result: unknown) => {
      await recordAttempt('cancelled');
      await deps.jobs.markCancelled(id, result ?? null);
      deps.events.status(id);
      deps.metrics.jobs.attemptEnded(type, 'cancelled', seconds());
      logger.info('job cancelled on request while running');
      return { cancelled: true };
    };
    deps.metrics.jobs.active.inc();
    try {
      const handler = deps.handlers[type] as (p: unknown, c: unknown) => Promise<unknown>;
      const result = await handler(payload, {
        id,
        attempt,
        maxAttempts,
        signal: AbortSignal.any([
          ...(signal ? [signal] : []),
          cancelled,
          ...(deferrable ? [startAbort.signal] : []),
        ]),
        logger,
        details,
        progress: progress.report,
      });
      await progress.flush();
      // the history row goes in the status's own statement (one write per job, not two), and so
      // does the start when `running` was never written; a cancellation requested meanwhile
      // ends the job cancelled (the statement sees it on the row)
      const succeeded = {
        attempt,
        startedAt: attemptStarted,
        finishedAt: new Date(),
        httpStatus: details.httpStatus ?? null,
        onNotRecorded: (failure: unknown) =>
          logger.warn(
            { err: failure, outcome: 'succeeded' },
            'the attempt could not be added to the history',
          ),
      };
      if (!cancelled.aborted && running.skipWrite()) {
        const written = await deps.jobs.markSucceeded(id, result ?? null, {
          ...succeeded,
          recordsStart: true,
        });
        outage.reported = false;
        // not queued or running any more: finished by another delivery, or gone
        if (!written) return await skip();
        deps.events.status(id);
        deps.metrics.jobs.attemptEnded(type, 'succeeded', seconds());
        return result;
      }
      if (!(await ensureRunning())) return await skip();
      // a handler that ignored the signal: its result is kept, the job ends cancelled
      if (cancelled.aborted) return await endCancelled(result);
      await deps.jobs.markSucceeded(id, result ?? null, succeeded);
      deps.events.status(id);
      deps.metrics.jobs.attemptEnded(type, 'succeeded', seconds());
      return result;
    } catch (error) {
      await progress.flush();
      // the record could not be written (e.g. markSucceeded), or the handler could not reach
      // the database: not the job's failure
      if (error instanceof DatabaseUnavailableError) throw error;
      // every other ending goes from running, as it did before the write could be deferred (a
      // failed deferred write fails here again, and an outage postpones the job)
      if (!(await ensureRunning())) return await skip();
      // cancelled: not a failure, and never retried (returning completes the BullMQ job)
      if (cancelled.aborted) return await endCancelled(null);
      if (signal?.aborted && signal.reason === SHUTDOWN_REASON && token) {
        // interrupted by shutdown, not failed: back to the queue without using up an attempt
        await recordAttempt('interrupted', error);
        await deps.jobs.markFailed(id, { error: 'interrupted by worker shutdown', final: false });
        deps.events.status(id);
        await job.moveToWait(token);
        deps.metrics.jobs.attemptEnded(type, 'interrupted', seconds());
        logger.warn('job interrupted by shutdown; returned to the queue');
        throw new WaitingError();
      }
      const unrecoverable = error instanceof UnrecoverableError;
      const lastInQueue = queueAttempt >= queueAttempts;
      const final = unrecoverable || lastInQueue || attempt >= maxAttempts;
      await recordAttempt(final ? 'failed' : 'retrying', error);
      const recorded = await deps.jobs.markFailed(id, { error: describeError(error), final });
      deps.events.status(id);
      if (recorded?.status === 'cancelled') {
        // its cancellation was requested while the news had not reached this process yet
        deps.metrics.jobs.attemptEnded(type, 'cancelled', seconds());
        logger.info({ err: error }, 'job attempt failed after its cancellation was requested');
        return { cancelled: true };
      }
      deps.metrics.jobs.attemptEnded(type, final ? 'failed' : 'retried', seconds());
      logger[final ? 'error' : 'warn']({ err: error, final }, 'job attempt failed');
      // the row has no attempts left although its BullMQ job has: BullMQ must not retry it
      if (final && !unrecoverable && !lastInQueue) {
        throw new UnrecoverableError(describeError(error));
      }
      throw error;
    } finally {
      running.stop();
      deps.metrics.jobs.active.dec();
    }
  }
  return runAndRecord;
}

/**
 * BullMQ fails a job that stalled more than JOB_MAX_STALLED_COUNT times without calling the
 * processor (a "deferred failure"); this records it on the row, which would otherwise stay running.
 * Listen with it on the worker's `failed` event.
 */
export function recordDeferredFailure(
  deps: Pick<JobProcessorDeps, 'jobs' | 'logger' | 'metrics' | 'fair' | 'events'>,
) {
  return async (job: Job | undefined): Promise<void> => {
    const id = job?.deferredFailure ? rowIdOf(job) : null;
    if (!job || !id) return;
    // its slots lapsed with its lock; releasing them also wakes the jobs parked behind it
    const { concurrencyKey } = splitQueuedJobData(job.data);
    if (isJobType(job.name) && deps.fair.isLimited(job.name, concurrencyKey)) {
      await deps.fair.release(job.id as string, job.name, concurrencyKey);
    }
    await deps.jobs.markFailed(id, { error: job.deferredFailure, final: true });
    deps.events.status(id);
    deps.metrics.jobs.attemptEnded(job.name, 'failed');
    deps.logger.error(
      {
        jobId: id,
        queueJobId: job.id,
        type: job.name,
        attempt: job.attemptsMade,
        reason: job.deferredFailure,
      },
      'job failed without running',
    );
  };
}

/**
 * The attempt numbers the row will count, known without reading it, when the BullMQ job carries
 * what the row had counted: the attempts used before it, plus BullMQ's (markRunning's sum). Null
 * (`running` is then written before the handler, which reads them back and sees a cancellation
 * request) for:
 * - a job that does not carry it (added by an older version, a scheduled run, whose row the
 *   worker creates);
 * - a job with a ttl: its queued row may be expired (maintenance) while its handler runs, and the
 *   ttl is checked in the `running` write;
 * - every delivery but a BullMQ job's first (a retry, a job parked or postponed, a stalled one):
 *   a worker held it before and let go of it while its row said queued, so a cancellation may
 *   have been answered 202 meanwhile, and the job must not run then.
 */
function deferrableAttemptOf(
  job: Job,
  rowCount: QueuedRowCount | null,
): { attempt: number; maxAttempts: number } | null {
  if (!rowCount || rowCount.expiresAt !== null || job.repeatJobKey) return null;
  // BullMQ counts every move to active, this one included
  if (job.attemptsStarted > 1) return null;
  const queueAttempts = job.opts.attempts ?? 1;
  return {
    attempt: rowCount.attemptsUsed + job.attemptsMade + 1,
    maxAttempts: rowCount.attemptsUsed + queueAttempts,
  };
}

function rowIdOf(job: Job): string | null {
  if (job.id && UUID.test(job.id)) return job.id.toLowerCase();
  if (job.id && job.repeatJobKey) return uuidv5(job.id, SCHEDULED_RUN_NAMESPACE);
  return null;
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 2_000) : String(error);
}

import { randomUUID } from 'node:crypto';
import { createBatcher, positiveInteger } from '@repo/batching';
import type { Db } from '../create-db.ts';
import {
  DatabaseUnavailableError,
  isDatabaseUnavailableError,
  withOutagesTranslated,
} from '../database-unavailable.ts';
import { JOB_COLUMNS } from './job-columns.ts';
import { InvalidListLimitError, JobJsonError } from './job-errors.ts';
import type { JobRecord, JobStatus } from './job-record.ts';
import { decodeCursor, encodeCursor, isUuid } from './list-cursor.ts';

/** The most jobs one `list()` or `findStale()` call returns. */
export const JOB_LIST_MAX_LIMIT = 1_000;

export interface CreateJobInput {
  type: string;
  /** Stored as jsonb; must be JSON-serialisable. */
  payload: unknown;
  maxAttempts: number;
  runAt?: Date | null;
  /** A repeated key returns the job first created with it instead of creating another. */
  idempotencyKey?: string;
  /** The key the type's limits apply per; validated by the caller (@repo/jobs concurrencyKeySchema). */
  concurrencyKey?: string | null;
  /** Labels to find the job by; validated by the caller. Default: none. */
  tags?: readonly string[];
  /** The client's own data about the job, a JSON object; validated by the caller. Default: {}. */
  metadata?: Record<string, unknown>;
  /** 1 (first) … 10 (last); validated by the caller. Default: the column's, 5. */
  priority?: number;
  /**
   * Seconds the job may wait to start once due (its runAt, else its creation); past that it
   * expires and never runs. Null or omitted: no limit.
   */
  ttl?: number | null;
  /** The job this one retries. */
  retryOf?: string | null;
  /** The schedule a run started on demand (POST /v1/schedules/:key/trigger) belongs to. */
  schedulerId?: string | null;
}

export interface CreateJobOptions {
  /**
   * Aborting it while the job still waits for its INSERT to be sent (group commit) drops the job:
   * `create` rejects with the signal's reason and writes nothing. Once the INSERT has been sent,
   * aborting changes nothing: the row may exist.
   */
  signal?: AbortSignal;
  /**
   * Called when the INSERT carrying the job is sent, with the id the new row gets: from then on
   * the job may exist — under that id, or, when its idempotency key is taken, as that key's row.
   */
  onSent?: (id: string) => void;
}

export interface ListJobsInput {
  status?: JobStatus | undefined;
  type?: string | undefined;
  concurrencyKey?: string | undefined;
  /** Only jobs carrying every one of these tags. */
  tags?: readonly string[] | undefined;
  /** Only jobs created at or after this instant. */
  createdAfter?: Date | undefined;
  /** Only jobs created before this instant. */
  createdBefore?: Date | undefined;
  /** 1..JOB_LIST_MAX_LIMIT */
  limit: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string | undefined;
}

export interface JobPage {
  jobs: JobRecord[];
  /** Pass it back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/** One item of `createMany`: its job, or why it cannot be stored. */
export type CreateManyOutcome = { job: JobRecord; created: boolean } | { error: JobJsonError };

/**
 * `cancelled`: the job was queued, no worker held it, and it is cancelled now: it never runs.
 * `cancel_requested`: the job is running, or a worker holds it and may already run its handler
 * (it writes `running` only once the handler has run for a moment); `cancelRequestedAt` is set,
 * and the attempt ends cancelled (the worker holding it is told).
 */
export type CancelOutcome =
  | { outcome: 'cancelled'; job: JobRecord }
  | { outcome: 'cancel_requested'; job: JobRecord }
  | { outcome: 'not_found' }
  | { outcome: 'conflict'; job: JobRecord };

export interface ScheduledRunInput {
  id: string;
  /** The run's BullMQ job id (`repeat:<scheduler>:<millis>`), which the row id is derived from. */
  queueJobId: string;
  type: string;
  payload: unknown;
  maxAttempts: number;
  schedulerId: string;
}

/**
 * Whether a worker holds a queued job's BullMQ job (`cancel` asks, see there): `released` when it
 * was taken off the queue or is not on it, so that no worker can run it any more; `held` when a
 * worker holds it (or this cannot be known), so that its handler may be running.
 */
export type QueuedJobRelease = (job: JobRecord) => Promise<'released' | 'held'>;

/** The attempt `markRunning` started, as the row counts it. */
export interface StartedAttempt {
  /** 1 on the first attempt; attempts used before a reconcile re-enqueue are included. */
  attempt: number;
  maxAttempts: number;
  /**
   * A client asked to cancel the job before this attempt started (while an earlier attempt ran):
   * the worker must not run it, and ends it cancelled (`markCancelled`).
   */
  cancelRequested: boolean;
}

/**
 * The attempt `markSucceeded` ends, added to the job's history (job_attempts, outcome `succeeded`)
 * in the same statement as the status: one write per finished job instead of two.
 */
export interface SucceededAttempt {
  /** The row's attempt number (`markRunning`'s). */
  attempt: number;
  startedAt: Date;
  finishedAt: Date;
  /** A webhook delivery's HTTP status, when the receiver answered. */
  httpStatus?: number | null;
  /**
   * The attempt was never marked running (the worker writes `running` only for a handler that
   * outlasts a short delay): the same statement then records what `markRunning` would have
   * (attempts = `attempt`, startedAt on the first attempt, attemptStartedAt = `startedAt`,
   * workerId, progress cleared) and may also take the row from `queued`.
   */
  recordsStart?: boolean;
  /**
   * Called when the history row could not be written for a reason of its own (not an outage):
   * the status is then written without it, as the history must never cost the job its outcome.
   */
  onNotRecorded(error: unknown): void;
}

/** What a running attempt last reported (`recordProgress`), as stored on the row. */
export interface JobProgress {
  /** 0 to 100. */
  percent: number;
  message: string | null;
  /** ISO-8601, the database's clock: also the row's updatedAt at that write. */
  updatedAt: string;
}

/** A queued or running job nobody has touched for a while: what reconcile checks against Redis. */
export interface StaleJob {
  id: string;
  status: 'queued' | 'running';
  /** The id of its BullMQ job: `queueJobId`, or the row id. */
  queueJobId: string;
  attempts: number;
  maxAttempts: number;
  /** Also the position in `findStale`'s order, with `id`. */
  updatedAt: Date;
}

/** Where a `findStale` walk stands: the last job of the previous page. */
export type StaleCursor = Pick<StaleJob, 'updatedAt' | 'id'>;

/** The job table operations the API and the worker share. */
export interface JobRepository {
  /**
   * Throws BatchQueueFullError (@repo/batching), writing nothing, when `createMaxWaiting` jobs
   * already wait for their INSERT.
   */
  create(
    input: CreateJobInput,
    options?: CreateJobOptions,
  ): Promise<{ job: JobRecord; created: boolean }>;
  /**
   * Creates up to JOB_LIST_MAX_LIMIT jobs in one INSERT, each as `create` would (a taken
   * idempotency key answers with its job, `created: false`). An item whose payload or metadata
   * cannot be stored gets its JobJsonError and the others are created; the outcomes are in the
   * order of `inputs`.
   */
  createMany(inputs: readonly CreateJobInput[]): Promise<CreateManyOutcome[]>;
  /** Null when there is no such job — also for an id that is not a UUID, which cannot exist. */
  findById(id: string): Promise<JobRecord | null>;
  /** Newest first, (createdAt desc, id desc); throws InvalidCursorError, InvalidListLimitError. */
  list(input: ListJobsInput): Promise<JobPage>;
  /**
   * Ends a queued job that was not started by its deadline (`expiresAt`) as `expired`, and
   * returns it; null when it is not such a job (started, not queued, not yet due to expire).
   */
  expire(id: string): Promise<JobRecord | null>;
  /**
   * Ends as `expired` up to `limit` queued jobs past their deadline, most overdue first; returns
   * their ids and BullMQ job ids, to take them off the queue.
   */
  expireOverdue(input: { limit: number }): Promise<{ id: string; queueJobId: string }[]>;
  /**
   * Requests the cancellation (`cancelRequestedAt`, kept from the first request) of a queued or
   * running job, in one atomic update. A queued one is then cancelled at once if `release` says
   * no worker holds it; otherwise, like a running one, it answers `cancel_requested`: a worker may
   * run a queued job's handler before writing `running`, and that worker, holding the job, is the
   * only one that can stop it. Finished jobs answer conflict.
   */
  cancel(id: string, release: QueuedJobRelease): Promise<CancelOutcome>;
  /** The jobs among `ids` that exist (any order); malformed ids are left out. */
  findByIds(ids: readonly string[]): Promise<JobRecord[]>;
  /**
   * An attempt starts: status running, startedAt set on the first attempt, attemptStartedAt on
   * every attempt, workerId to this repository's `workerId` option, and attempts = the
   * attempts used before this BullMQ job (max_attempts − `queueAttempts`, the attempts the BullMQ
   * job was given; 0 when omitted) + `attempt` (BullMQ's, 1 on its first try). So a job that
   * reconcile enqueued again with the attempts it had left goes on counting where it stopped,
   * and a redelivery of the same attempt sets the same number (the worker computes the same from
   * the BullMQ job's data when it defers this write; SucceededAttempt.recordsStart). Null when
   * the job is cancelled,
   * finished or missing — the worker then skips it. (Two numbers, not the row: reading the whole
   * row back on every job costs the worker throughput; BENCHMARKS.md.)
   */
  markRunning(id: string, attempt: number, queueAttempts?: number): Promise<StartedAttempt | null>;
  /**
   * False when the job was not running (already finished elsewhere, or missing), or, with
   * `attempt.recordsStart`, not queued or running. A job whose
   * cancellation was requested ends `cancelled` instead, with its result recorded. With `attempt`,
   * the attempt's history row is written in the same statement (see SucceededAttempt).
   */
  markSucceeded(id: string, result: unknown, attempt?: SucceededAttempt): Promise<boolean>;
  /**
   * `final`: failed for good (finishedAt set). Otherwise back to queued to await a retry, with
   * the error recorded. A job whose cancellation was requested ends `cancelled` instead, for
   * good. Null when the job had already finished or is missing.
   */
  markFailed(id: string, failure: { error: string; final: boolean }): Promise<JobRecord | null>;
  /**
   * Ends a queued or running job `cancelled` (finishedAt set), keeping `result` when the
   * handler returned one. Null when the job had already finished or is missing.
   */
  markCancelled(id: string, result?: unknown): Promise<JobRecord | null>;
  /**
   * Stores what the running attempt reports (percent 0–100, checked by the caller) on the row.
   * Null when the job is not running (it finished meanwhile, or is missing).
   */
  recordProgress(
    id: string,
    progress: { percent: number; message: string | null },
  ): Promise<JobProgress | null>;
  /**
   * Gives a scheduled run its row the first time a worker sees it; later calls change nothing,
   * except recording the BullMQ job id on a row an older version created without it.
   */
  ensureScheduled(input: ScheduledRunInput): Promise<{ created: boolean }>;
  /**
   * Queued and running jobs not updated since `before`, in (updatedAt, id) order, starting after
   * `after` (the last job of the previous page). Scheduled runs recorded before their BullMQ id
   * was (queueJobId null) are left out: their BullMQ job cannot be looked up.
   */
  findStale(input: {
    before: Date;
    after?: StaleCursor | null;
    limit: number;
  }): Promise<StaleJob[]>;
  /**
   * Puts a stale job whose BullMQ job is gone back to queued, if it has not changed since it was
   * read (`updatedAt`), and returns the row to enqueue again — under the row id from now on. A
   * running job's interrupted attempt is given back, as BullMQ gives back a stalled job's. `error`
   * becomes `reason` when one is given (a queued job keeps its last attempt's). Null when the job
   * changed meanwhile.
   */
  requeue(job: StaleCursor, reason?: string): Promise<JobRecord | null>;
  /** Deletes finished jobs older than `before`, `batchSize` rows per statement; returns the count. */
  deleteFinishedBefore(input: { before: Date; batchSize: number }): Promise<number>;
  /**
   * What an operator is paged about, read for /metrics: how long the oldest due queued job has
   * waited, and how long the running row untouched the longest has been so (in seconds; null
   * when no row is in that state).
   */
  backlog(): Promise<JobBacklog>;
}

/** See `JobRepository.backlog`. */
export interface JobBacklog {
  oldestQueuedSeconds: number | null;
  oldestRunningSeconds: number | null;
}

// Every query returns whole rows as JOB_COLUMNS selects them: the generated model's fields. The
// repository talks to the pool directly: every operation is one statement Prisma's query builder
// cannot express (INSERT … ON CONFLICT, conditional updates with RETURNING, keyset comparison),
// and Prisma's raw-query path adds CPU per query on every job, twice in the worker (the figures
// are in BENCHMARKS.md).

// Statuses an attempt may start from or end in: running covers a job whose worker died and
// which BullMQ hands to another worker; queued covers the first attempt and retries.
const ACTIVE = `('queued', 'running')`;
const FINISHED = `('succeeded', 'failed', 'cancelled', 'expired')`;
// A queued job that was never started and whose deadline has passed may not start any more.
// Never NULL (a job without a ttl has no expires_at), so NOT of it is safe in a WHERE.
const PAST_ITS_TTL = `(started_at IS NULL AND expires_at IS NOT NULL AND expires_at <= now())`;

/**
 * The most calls one statement carries. `create`, `markRunning` and `markSucceeded` run on every
 * job, so calls that arrive while the previous statement of their kind is in flight are sent
 * together as one (group commit): a row costs PostgreSQL far less CPU in a shared statement than
 * in a statement and commit of its own (the figures are in bench/findings.md). Under light load
 * every call is still its own statement, sent at once.
 */
export const JOB_WRITE_BATCH_SIZE = 100;

/**
 * The most `create` calls that may wait for their INSERT (ten full statements). Past it, while
 * PostgreSQL is slow or a lock holds the table, `create` refuses at once instead of collecting
 * requests that time out before their turn comes.
 */
export const JOB_CREATE_MAX_WAITING = 1_000;

/**
 * A worker transition: an attempt starts, or the running attempt succeeds with its result (JSON);
 * `start` records an attempt that was never marked running (SucceededAttempt.recordsStart).
 */
type Transition =
  | { id: string; to: 'running'; attempt: number; queueAttempts: number | null }
  | {
      id: string;
      to: 'succeeded';
      result: string | null;
      attempt: Omit<SucceededAttempt, 'onNotRecorded' | 'recordsStart'> | null;
      start: { attempt: number; startedAt: Date } | null;
    };

interface InsertItem {
  id: string;
  type: string;
  payload: string;
  maxAttempts: number;
  runAt: Date | null;
  idempotencyKey: string | null;
  concurrencyKey: string | null;
  /** The tags as a JSON array: unnest() would flatten an array of arrays into one. */
  tags: string;
  metadata: string;
  priority: number | null;
  ttl: number | null;
  retryOf: string | null;
  schedulerId: string | null;
}

export interface JobRepositoryOptions {
  /** The most `create` calls that may wait for their INSERT; default JOB_CREATE_MAX_WAITING. */
  createMaxWaiting?: number;
  /** Called with the number of rows of each group-commit statement (for a metric). */
  onBatch?: (size: number) => void;
  /** Who runs the attempts `markRunning` starts (the worker's host name); recorded on the row. */
  workerId?: string;
}

export function createJobRepository(
  db: Pick<Db, 'pool'>,
  options: JobRepositoryOptions = {},
): JobRepository {
  const { pool } = db;
  const rows = async (text: string, values: unknown[] = []) =>
    (await pool.query<JobRecord>(text, values)).rows;
  const firstRow = async (text: string, values: unknown[] = []) =>
    (await rows(text, values))[0] ?? null;

  /** One statement per batch; each item gets the row its id returned, or null. */
  function batchedWrites<I extends { id: string }, R extends { id: string }>(
    doing: string,
    statement: (items: readonly I[]) => { text: string; values: unknown[] },
    options: {
      oneChangePerRow?: boolean;
      maxWaiting?: number;
      onBatch?: (size: number) => void;
    } = {},
  ) {
    return createBatcher<I, R | null>({
      maxBatchSize: JOB_WRITE_BATCH_SIZE,
      ...(options.maxWaiting === undefined ? {} : { maxWaiting: options.maxWaiting }),
      // two updates of one row in one UPDATE … FROM would apply once; run them one after the other
      ...(options.oneChangePerRow ? { keyOf: (item: I) => item.id } : {}),
      // an unreachable database fails every item alike; anything else may be one item's fault
      splitOnFailure: (error) => !isDatabaseUnavailableError(error),
      run: (items) =>
        withOutagesTranslated(doing, async () => {
          const { text, values } = statement(items);
          options.onBatch?.(items.length);
          const { rows: written } = await pool.query<R>(text, values);
          const byId = new Map(written.map((row) => [row.id, row]));
          return items.map((item) => byId.get(item.id) ?? null);
        }),
    });
  }

  const inserts = batchedWrites<InsertItem, JobRecord>('create a job', insertStatement, {
    maxWaiting: options.createMaxWaiting ?? JOB_CREATE_MAX_WAITING,
    ...(options.onBatch ? { onBatch: options.onBatch } : {}),
  });

  // Both worker transitions share one statement, so a batch carries every job that started or
  // finished meanwhile: twice the rows per statement, half the statements.
  const transitions = batchedWrites<Transition, { id: string } & StartedAttempt>(
    'mark a job running or succeeded',
    (items) => ({
      // A succeeded item carrying its attempt adds the attempt's history row in the same
      // statement (a data-modifying CTE runs whether or not the UPDATE uses it).
      text: `
        WITH item AS (
          SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[], $4::int[], $5::text[],
                               $7::timestamptz[], $8::timestamptz[], $9::int[], $10::int[],
                               $11::timestamptz[])
            AS item(job_id, next_status, attempt, queue_attempts, new_result,
                    history_started_at, history_finished_at, http_status, start_attempt,
                    start_at)
        ), recorded AS (
          INSERT INTO job_attempts (job_id, attempt, started_at, finished_at, outcome, error,
                                    worker_id, http_status, duration_ms)
          SELECT job_id, attempt, history_started_at, history_finished_at, 'succeeded', NULL,
                 $6::text, http_status,
                 GREATEST(round(extract(epoch FROM history_finished_at - history_started_at)
                                * 1000), 0)::int
            FROM item
           WHERE next_status = 'succeeded' AND history_started_at IS NOT NULL
        )
        UPDATE jobs
           SET status = CASE WHEN item.next_status = 'succeeded' AND cancel_requested_at IS NOT NULL
                             THEN 'cancelled'::job_status
                             ELSE item.next_status::job_status END,
               attempts = CASE WHEN item.next_status = 'running'
                               THEN GREATEST(max_attempts - COALESCE(item.queue_attempts, max_attempts), 0)
                                    + item.attempt
                               WHEN item.start_attempt IS NOT NULL THEN item.start_attempt
                               ELSE attempts END,
               -- a deferred start is the worker's clock, never later than the database's now
               started_at = CASE WHEN item.next_status = 'running'
                                 THEN COALESCE(started_at, now())
                                 WHEN item.start_attempt IS NOT NULL
                                 THEN COALESCE(started_at, LEAST(item.start_at, now()))
                                 ELSE started_at END,
               attempt_started_at = CASE WHEN item.next_status = 'running' THEN now()
                                         WHEN item.start_attempt IS NOT NULL
                                         THEN LEAST(item.start_at, now())
                                         ELSE attempt_started_at END,
               worker_id = CASE WHEN item.next_status = 'running' OR item.start_attempt IS NOT NULL
                                THEN $6::text ELSE worker_id END,
               progress = CASE WHEN item.next_status = 'running' OR item.start_attempt IS NOT NULL
                               THEN NULL ELSE progress END,
               result = CASE WHEN item.next_status = 'succeeded'
                             THEN item.new_result::jsonb ELSE result END,
               error = CASE WHEN item.next_status = 'succeeded' THEN NULL ELSE error END,
               finished_at = CASE WHEN item.next_status = 'succeeded' THEN now() ELSE finished_at END,
               updated_at = now()
          FROM item
         WHERE jobs.id = item.job_id
           AND CASE item.next_status
                 WHEN 'running' THEN status IN ${ACTIVE} AND NOT ${PAST_ITS_TTL}
                 ELSE status = 'running' OR (item.start_attempt IS NOT NULL AND status = 'queued')
               END
        RETURNING id, attempts AS attempt, max_attempts AS "maxAttempts",
                  cancel_requested_at IS NOT NULL AS "cancelRequested"`,
      values: [
        items.map((item) => item.id),
        items.map((item) => item.to),
        items.map((item) =>
          item.to === 'running' ? item.attempt : (item.attempt?.attempt ?? null),
        ),
        items.map((item) => (item.to === 'running' ? item.queueAttempts : null)),
        items.map((item) => (item.to === 'succeeded' ? item.result : null)),
        options.workerId ?? null,
        items.map((item) => (item.to === 'succeeded' ? (item.attempt?.startedAt ?? null) : null)),
        items.map((item) => (item.to === 'succeeded' ? (item.attempt?.finishedAt ?? null) : null)),
        items.map((item) => (item.to === 'succeeded' ? (item.attempt?.httpStatus ?? null) : null)),
        items.map((item) => (item.to === 'succeeded' ? (item.start?.attempt ?? null) : null)),
        items.map((item) => (item.to === 'succeeded' ? (item.start?.startedAt ?? null) : null)),
      ],
    }),
    { oneChangePerRow: true, ...(options.onBatch ? { onBatch: options.onBatch } : {}) },
  );

  return {
    create: async (input, createOptions = {}) => {
      const item = toInsertItem(input);
      const key = item.idempotencyKey;
      // The unique index decides between concurrent identical requests: one insert wins, the
      // others do nothing and then read the winner's row — in a new statement, whose snapshot
      // includes that committed row. It can only be missing if pruning deleted it in between.
      for (let attempt = 1; attempt <= 3; attempt += 1) {
        const job = await inserts.submit(item, {
          ...(createOptions.signal === undefined ? {} : { signal: createOptions.signal }),
          onSent: () => createOptions.onSent?.(item.id),
        });
        if (job) return { job, created: true };
        if (key === null) throw new Error(`job ${item.id} was not inserted`);
        const existing = await withOutagesTranslated('read a job', () =>
          firstRow(`SELECT ${JOB_COLUMNS} FROM jobs WHERE idempotency_key = $1`, [key]),
        );
        if (existing) return { job: existing, created: false };
      }
      throw new Error(
        `idempotency key "${key}" kept conflicting with a row that disappeared before it could be read`,
      );
    },

    createMany: (inputs) =>
      withOutagesTranslated('create jobs', async () => {
        if (inputs.length > JOB_LIST_MAX_LIMIT) {
          throw new RangeError(`createMany takes at most ${JOB_LIST_MAX_LIMIT} jobs`);
        }
        const outcomes: CreateManyOutcome[] = new Array(inputs.length);
        const items: { index: number; item: InsertItem }[] = [];
        for (const [index, input] of inputs.entries()) {
          try {
            items.push({ index, item: toInsertItem(input) });
          } catch (error) {
            if (!(error instanceof JobJsonError)) throw error;
            outcomes[index] = { error };
          }
        }
        if (items.length === 0) return outcomes;
        const statement = insertStatement(items.map(({ item }) => item));
        options.onBatch?.(items.length);
        const inserted = new Map(
          (await rows(statement.text, statement.values)).map((row) => [row.id, row]),
        );
        // the items whose key was taken: by an earlier job, or by an item before them here
        const takenKeys = items
          .filter(({ item }) => !inserted.has(item.id) && item.idempotencyKey !== null)
          .map(({ item }) => item.idempotencyKey as string);
        const byKey = new Map(
          takenKeys.length === 0
            ? []
            : (
                await rows(
                  `SELECT ${JOB_COLUMNS} FROM jobs WHERE idempotency_key = ANY($1::text[])`,
                  [takenKeys],
                )
              ).map((row) => [row.idempotencyKey, row]),
        );
        for (const { index, item } of items) {
          const created = inserted.get(item.id);
          const existing =
            item.idempotencyKey === null ? undefined : byKey.get(item.idempotencyKey);
          if (created) outcomes[index] = { job: created, created: true };
          else if (existing) outcomes[index] = { job: existing, created: false };
          else throw new Error(`job ${item.id} was not inserted and its key names no job`);
        }
        return outcomes;
      }),

    findById: (id) =>
      withOutagesTranslated('read a job', async () => {
        if (!isUuid(id)) return null;
        return firstRow(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = $1::uuid`, [id]);
      }),

    list: (input) =>
      withOutagesTranslated('list jobs', async () => {
        const limit = checkLimit(input.limit);
        const after = input.cursor === undefined ? undefined : decodeCursor(input.cursor);
        const conditions: string[] = [];
        const values: unknown[] = [];
        const param = (value: unknown) => `$${values.push(value)}`;
        if (input.status !== undefined) {
          conditions.push(`status = ${param(input.status)}::job_status`);
        }
        if (input.type !== undefined) conditions.push(`type = ${param(input.type)}`);
        if (input.concurrencyKey !== undefined) {
          conditions.push(`concurrency_key = ${param(input.concurrencyKey)}`);
        }
        // containment (@>), which the GIN index on tags answers
        if (input.tags !== undefined && input.tags.length > 0) {
          conditions.push(`tags @> ${param(input.tags)}::text[]`);
        }
        if (input.createdAfter !== undefined) {
          conditions.push(`created_at >= ${param(input.createdAfter)}::timestamptz`);
        }
        if (input.createdBefore !== undefined) {
          conditions.push(`created_at < ${param(input.createdBefore)}::timestamptz`);
        }
        if (after) {
          // a row comparison, which the (…, created_at DESC, id DESC) indexes answer directly
          conditions.push(
            `(created_at, id) < (${param(after.createdAt)}::timestamptz, ${param(after.id)}::uuid)`,
          );
        }
        const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
        // one row more than asked tells whether another page exists, so an exactly full last
        // page has no nextCursor
        const found = await rows(
          `SELECT ${JOB_COLUMNS} FROM jobs ${where}
           ORDER BY created_at DESC, id DESC
           LIMIT ${param(limit + 1)}::int`,
          values,
        );
        const jobs = found.slice(0, limit);
        const last = jobs.at(-1);
        return {
          jobs,
          nextCursor: found.length > limit && last ? encodeCursor(last) : null,
        };
      }),

    expire: (id) =>
      withOutagesTranslated('expire a job', async () => {
        if (!isUuid(id)) return null;
        return firstRow(
          `UPDATE jobs SET status = 'expired', finished_at = now(), updated_at = now()
            WHERE id = $1::uuid AND status = 'queued' AND ${PAST_ITS_TTL}
           RETURNING ${JOB_COLUMNS}`,
          [id],
        );
      }),

    expireOverdue: (input) =>
      withOutagesTranslated('expire overdue jobs', async () => {
        const limit = checkLimit(input.limit);
        // the partial index on expires_at (queued rows with a ttl) finds them; SKIP LOCKED steps
        // around a row a worker is starting this moment. A materialized CTE, because the planner
        // may run an IN (… LIMIT) subquery more than once and so update more than `limit` rows.
        const { rows: expired } = await pool.query<{ id: string; queueJobId: string }>(
          `WITH due AS MATERIALIZED (
             SELECT id FROM jobs
              WHERE status = 'queued' AND expires_at IS NOT NULL AND ${PAST_ITS_TTL}
              ORDER BY expires_at
              LIMIT $1::int
              FOR UPDATE SKIP LOCKED)
           UPDATE jobs SET status = 'expired', finished_at = now(), updated_at = now()
             FROM due
            WHERE jobs.id = due.id
           RETURNING jobs.id, COALESCE(jobs.queue_job_id, jobs.id::text) AS "queueJobId"`,
          [limit],
        );
        return expired;
      }),

    cancel: (id, release) =>
      withOutagesTranslated('cancel a job', async (): Promise<CancelOutcome> => {
        if (!isUuid(id)) return { outcome: 'not_found' };
        const read = () => firstRow(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = $1::uuid`, [id]);
        // First the request, on a queued or running row alike (the first request's time is
        // kept): from here on every worker transition ends the job cancelled, so whatever a
        // worker holding it does next, it does not end succeeded or queued for a retry.
        const requested = await firstRow(
          `UPDATE jobs
              SET cancel_requested_at = COALESCE(cancel_requested_at, now()),
                  updated_at = CASE WHEN cancel_requested_at IS NULL THEN now() ELSE updated_at END
            WHERE id = $1::uuid AND status IN ${ACTIVE}
           RETURNING ${JOB_COLUMNS}`,
          [id],
        );
        if (!requested) {
          const current = await read();
          return current ? { outcome: 'conflict', job: current } : { outcome: 'not_found' };
        }
        if (requested.status === 'running') return { outcome: 'cancel_requested', job: requested };
        // Queued: a worker may hold it and run its handler before it writes `running`. Only
        // once its BullMQ job is off the queue can no worker run it.
        if ((await release(requested)) === 'held') {
          return { outcome: 'cancel_requested', job: requested };
        }
        const cancelled = await firstRow(
          `UPDATE jobs SET status = 'cancelled', finished_at = now(), updated_at = now()
            WHERE id = $1::uuid AND status = 'queued'
           RETURNING ${JOB_COLUMNS}`,
          [id],
        );
        if (cancelled) return { outcome: 'cancelled', job: cancelled };
        // Changed meanwhile: cancelled by a concurrent request, or ended (cancelled, as
        // requested) by a worker that held it and let go of it since.
        const current = await read();
        if (!current) return { outcome: 'not_found' };
        if (current.status === 'queued' || current.status === 'running') {
          return { outcome: 'cancel_requested', job: current };
        }
        return { outcome: 'conflict', job: current };
      }),

    findByIds: (ids) =>
      withOutagesTranslated('read jobs', async () => {
        const valid = ids.filter(isUuid);
        if (valid.length === 0) return [];
        return rows(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = ANY($1::uuid[])`, [valid]);
      }),

    markRunning: async (id, attempt, queueAttempts) => {
      if (!isUuid(id)) return null;
      const started = await transitions.submit({
        id: id.toLowerCase(),
        to: 'running',
        attempt,
        queueAttempts: queueAttempts ?? null,
      });
      return (
        started && {
          attempt: started.attempt,
          maxAttempts: started.maxAttempts,
          cancelRequested: started.cancelRequested,
        }
      );
    },

    markSucceeded: async (id, result, attempt) => {
      if (!isUuid(id)) return false;
      const json = result === undefined || result === null ? null : toJson(result, 'result');
      if (!attempt) {
        const item = { id: id.toLowerCase(), to: 'succeeded', result: json, start: null } as const;
        return (await transitions.submit({ ...item, attempt: null })) !== null;
      }
      const { onNotRecorded, recordsStart, ...history } = attempt;
      const start = recordsStart
        ? { attempt: history.attempt, startedAt: history.startedAt }
        : null;
      const item = { id: id.toLowerCase(), to: 'succeeded', result: json, start } as const;
      try {
        return (await transitions.submit({ ...item, attempt: history })) !== null;
      } catch (error) {
        // a failing batch is retried item by item, so this is this item's own statement: the
        // status goes on without its history row (an outage fails both alike, and propagates)
        if (error instanceof DatabaseUnavailableError) throw error;
        const written = (await transitions.submit({ ...item, attempt: null })) !== null;
        onNotRecorded(error);
        return written;
      }
    },

    markFailed: (id, failure) =>
      withOutagesTranslated('mark a job failed', async () => {
        if (!isUuid(id)) return null;
        // text columns cannot hold NUL; an error message must never make recording it fail
        const error = failure.error.replaceAll('\u0000', '\uFFFD');
        // a job whose cancellation was requested is not retried: it ends cancelled
        const outcome = failure.final
          ? `status = CASE WHEN cancel_requested_at IS NULL THEN 'failed'::job_status
                           ELSE 'cancelled'::job_status END,
             finished_at = now()`
          : `status = CASE WHEN cancel_requested_at IS NULL THEN 'queued'::job_status
                           ELSE 'cancelled'::job_status END,
             finished_at = CASE WHEN cancel_requested_at IS NULL THEN NULL ELSE now() END`;
        return firstRow(
          `UPDATE jobs SET ${outcome}, error = $2, updated_at = now()
            WHERE id = $1::uuid AND status IN ${ACTIVE}
           RETURNING ${JOB_COLUMNS}`,
          [id, error],
        );
      }),

    markCancelled: (id, result) =>
      withOutagesTranslated('mark a job cancelled', async () => {
        if (!isUuid(id)) return null;
        const json = result === undefined || result === null ? null : toJson(result, 'result');
        return firstRow(
          `UPDATE jobs SET status = 'cancelled', finished_at = now(),
                           result = COALESCE($2::jsonb, result), updated_at = now()
            WHERE id = $1::uuid AND status IN ${ACTIVE}
           RETURNING ${JOB_COLUMNS}`,
          [id, json],
        );
      }),

    recordProgress: (id, progress) =>
      withOutagesTranslated('record job progress', async () => {
        if (!isUuid(id)) return null;
        const message = progress.message?.replaceAll('\u0000', '\uFFFD') ?? null;
        // the row's updatedAt and the progress's share one instant, so a reader can order them
        const written = await firstRow(
          `WITH now_ms AS (SELECT date_trunc('milliseconds', now()) AS at)
           UPDATE jobs
              SET progress = jsonb_build_object(
                    'percent', $2::float8,
                    'message', $3::text,
                    'updatedAt', to_char(now_ms.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
                  updated_at = now_ms.at
             FROM now_ms
            WHERE id = $1::uuid AND status = 'running'
           RETURNING jobs.progress`,
          [id, progress.percent, message],
        );
        return (written?.progress as JobProgress | undefined) ?? null;
      }),

    ensureScheduled: (input) =>
      withOutagesTranslated('record a scheduled run', async () => {
        const payload = toJson(input.payload, 'payload');
        // xmax = 0 tells an inserted row from one the conflict clause updated
        const { rows: written } = await pool.query<{ created: boolean }>(
          `INSERT INTO jobs (id, type, payload, max_attempts, scheduler_id, queue_job_id)
           VALUES ($1::uuid, $2, $3::jsonb, $4::int, $5, $6)
           ON CONFLICT (id) DO UPDATE SET queue_job_id = EXCLUDED.queue_job_id
             WHERE jobs.queue_job_id IS NULL
           RETURNING xmax = 0 AS created`,
          [input.id, input.type, payload, input.maxAttempts, input.schedulerId, input.queueJobId],
        );
        return { created: written[0]?.created === true };
      }),

    findStale: (input) =>
      withOutagesTranslated('find stale jobs', async () => {
        const limit = checkLimit(input.limit);
        const after = input.after ?? null;
        // One branch per status, merged in order: queued jobs come from their partial index on
        // updated_at, running ones (no more than the workers run at once) from the status index.
        // An index over both would cost every job one more index entry when it starts.
        const branch = (status: 'queued' | 'running') => `
          (SELECT id, status, COALESCE(queue_job_id, id::text) AS "queueJobId", attempts,
                  max_attempts AS "maxAttempts", updated_at AS "updatedAt"
             FROM jobs
            WHERE status = '${status}' AND updated_at < $1::timestamptz
              AND (scheduler_id IS NULL OR queue_job_id IS NOT NULL)
              AND ($2::timestamptz IS NULL OR (updated_at, id) > ($2::timestamptz, $3::uuid))
            ORDER BY updated_at, id
            LIMIT $4::int)`;
        const { rows: found } = await pool.query<StaleJob>(
          `SELECT * FROM (${branch('queued')} UNION ALL ${branch('running')}) AS stale
            ORDER BY "updatedAt", id
            LIMIT $4::int`,
          [input.before, after?.updatedAt ?? null, after?.id ?? null, limit],
        );
        return found;
      }),

    requeue: (job, reason) =>
      withOutagesTranslated('queue a stale job again', async () => {
        if (!isUuid(job.id)) return null;
        return firstRow(
          `UPDATE jobs
              SET status = 'queued',
                  attempts = CASE WHEN status = 'running' THEN GREATEST(attempts - 1, 0)
                                  ELSE attempts END,
                  error = COALESCE($3, error),
                  queue_job_id = CASE WHEN queue_job_id IS NULL THEN NULL ELSE id::text END,
                  updated_at = now()
            WHERE id = $1::uuid AND status IN ${ACTIVE} AND updated_at = $2::timestamptz
           RETURNING ${JOB_COLUMNS}`,
          [job.id, job.updatedAt, reason?.replaceAll('\u0000', '\uFFFD') ?? null],
        );
      }),

    deleteFinishedBefore: (input) =>
      withOutagesTranslated('delete finished jobs', async () => {
        const batchSize = positiveInteger(input.batchSize, 'batchSize');
        let total = 0;
        // short statements, each holding its row locks briefly; SKIP LOCKED steps around rows
        // another session is working on
        for (;;) {
          // a job's attempts go with it (job_attempts has no foreign key to cascade)
          const { rows: counted } = await pool.query<{ deleted: number }>(
            `WITH gone AS (
               DELETE FROM jobs WHERE id IN (
                 SELECT id FROM jobs
                  WHERE finished_at < $1::timestamptz AND status IN ${FINISHED}
                  ORDER BY finished_at
                  LIMIT $2::int
                  FOR UPDATE SKIP LOCKED)
               RETURNING id),
             attempts AS (DELETE FROM job_attempts WHERE job_id IN (SELECT id FROM gone))
             SELECT count(*)::int AS deleted FROM gone`,
            [input.before, batchSize],
          );
          const deleted = counted[0]?.deleted ?? 0;
          total += deleted;
          if (deleted < batchSize) return total;
        }
      }),
    backlog: () =>
      withOutagesTranslated('read the job backlog', async () => {
        // A queued row awaiting a retry was last written when its attempt failed, and is due a
        // backoff later: counting from that write keeps a normal backoff from looking like a
        // job nobody picks up. Rows due later (run_at ahead) are not waiting yet.
        const {
          rows: [row],
        } = await pool.query<{ queued: number | null; running: number | null }>(
          `SELECT extract(epoch FROM now() - min(GREATEST(COALESCE(run_at, created_at), updated_at))
                                        FILTER (WHERE status = 'queued'))::float8 AS queued,
                  extract(epoch FROM now() - min(updated_at) FILTER (WHERE status = 'running'))::float8
                    AS running
             FROM jobs
            WHERE status IN ${ACTIVE}
              AND (status = 'running' OR COALESCE(run_at, created_at) <= now())`,
        );
        return {
          oldestQueuedSeconds: row?.queued ?? null,
          oldestRunningSeconds: row?.running ?? null,
        };
      }),
  };
}

// ON CONFLICT also settles two items with one key in one statement: the first is inserted.
function insertStatement(items: readonly InsertItem[]): { text: string; values: unknown[] } {
  return {
    text: `
    INSERT INTO jobs (id, type, payload, max_attempts, run_at, idempotency_key, concurrency_key,
                      tags, metadata, priority, ttl, expires_at, retry_of, scheduler_id)
    SELECT id, type, payload::jsonb, max_attempts, run_at, idempotency_key, concurrency_key,
           ARRAY(SELECT jsonb_array_elements_text(tags::jsonb)), metadata::jsonb,
           COALESCE(priority, 5), ttl,
           -- now() is created_at's default: the deadline counts from creation without a runAt
           COALESCE(run_at, now()) + make_interval(secs => ttl), retry_of, scheduler_id
      FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::timestamptz[], $6::text[],
                  $7::text[], $8::text[], $9::text[], $10::int[], $11::int[], $12::uuid[],
                  $13::text[])
        AS item(id, type, payload, max_attempts, run_at, idempotency_key, concurrency_key, tags,
                metadata, priority, ttl, retry_of, scheduler_id)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING ${JOB_COLUMNS}`,
    values: [
      items.map((item) => item.id),
      items.map((item) => item.type),
      items.map((item) => item.payload),
      items.map((item) => item.maxAttempts),
      items.map((item) => item.runAt),
      items.map((item) => item.idempotencyKey),
      items.map((item) => item.concurrencyKey),
      items.map((item) => item.tags),
      items.map((item) => item.metadata),
      items.map((item) => item.priority),
      items.map((item) => item.ttl),
      items.map((item) => item.retryOf),
      items.map((item) => item.schedulerId),
    ],
  };
}

function toInsertItem(input: CreateJobInput): InsertItem {
  return {
    id: randomUUID(),
    type: input.type,
    payload: toJson(input.payload, 'payload'),
    maxAttempts: input.maxAttempts,
    runAt: input.runAt ?? null,
    idempotencyKey: input.idempotencyKey ?? null,
    concurrencyKey: input.concurrencyKey ?? null,
    tags: JSON.stringify(input.tags ?? []),
    metadata: toJson(input.metadata ?? {}, 'metadata'),
    priority: input.priority ?? null,
    ttl: input.ttl ?? null,
    retryOf: input.retryOf ?? null,
    schedulerId: input.schedulerId ?? null,
  };
}

function checkLimit(limit: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > JOB_LIST_MAX_LIMIT) {
    throw new InvalidListLimitError(
      `limit must be a whole number from 1 to ${JOB_LIST_MAX_LIMIT}, got ${limit}`,
    );
  }
  return limit;
}

/** JSON for a jsonb column, refusing (JobJsonError) what JSON or jsonb cannot hold. */
export function toJson(value: unknown, what: string): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new JobJsonError(
      `the job ${what} cannot be stored as JSON: ${(error as Error).message}`,
      { cause: error, field: what },
    );
  }
  if (json === undefined) {
    throw new JobJsonError(`the job ${what} cannot be stored as JSON: it is ${typeof value}`, {
      field: what,
    });
  }
  // an escaped NUL, not a literal backslash followed by "u0000"
  if (/(?:^|[^\\])(?:\\\\)*\\u0000/.test(json)) {
    throw new JobJsonError(
      `the job ${what} contains the NUL character (\\u0000), which PostgreSQL jsonb cannot store`,
      { field: what },
    );
  }
  // JSON.stringify escapes a lone surrogate (and only a lone one) as \udXXX; jsonb refuses it,
  // and inside a batch that error would send every other item of the statement on alone
  if (/(?:^|[^\\])(?:\\\\)*\\ud[89a-f][0-9a-f]{2}/.test(json)) {
    throw new JobJsonError(
      `the job ${what} contains a lone UTF-16 surrogate (not well-formed Unicode), which PostgreSQL jsonb cannot store`,
      { field: what },
    );
  }
  return json;
}

import type { Db } from '../create-db.ts';
import { withOutagesTranslated } from '../database-unavailable.ts';
import { Prisma } from '../generated/prisma/client.ts';
import { InvalidListLimitError } from '../jobs/job-errors.ts';
import type { JobStatus } from '../jobs/job-record.ts';
import { toJson } from '../jobs/job-repository.ts';
import { selectListOf } from '../model-columns.ts';
import { ScheduleKeyTakenError } from './schedule-errors.ts';
import type { ScheduleDefinition, ScheduleRecord } from './schedule-record.ts';

const SCHEDULE_COLUMNS = selectListOf(Object.values(Prisma.ScheduleScalarFieldEnum));

/** The most schedules one `list()` call returns. */
export const SCHEDULE_LIST_MAX_LIMIT = 1_000;

/** PostgreSQL's unique_violation. */
const UNIQUE_VIOLATION = '23505';

/** The latest job a schedule started (a scheduled run, or one triggered through the API). */
export interface ScheduleRun {
  id: string;
  status: JobStatus;
  createdAt: Date;
}

export interface ScheduleListInput {
  /**
   * The most schedules to return, 0 to 1,000. 0 returns none and tells only whether any is left
   * (`hasMore`): what a caller that filled its page from elsewhere asks.
   */
  limit: number;
  /** Only keys after this one, in byte order (COLLATE "C"): the last key of the previous page. */
  afterKey?: string | undefined;
  /** Keys to leave out, as if they were not in the table. */
  excludeKeys?: readonly string[] | undefined;
}

export interface SchedulePage {
  /** By key, in byte order: the same order as JavaScript's `<` on the ASCII keys schedules have. */
  schedules: ScheduleRecord[];
  /** Whether more schedules follow the last one returned. */
  hasMore: boolean;
}

export type ScheduleUpdateOutcome =
  | { outcome: 'updated'; schedule: ScheduleRecord }
  | { outcome: 'not_found' }
  /** The row changed since `revision` was read: read it again and reapply the change. */
  | { outcome: 'conflict'; schedule: ScheduleRecord };

/** The `schedules` table: what the api changes and beat applies to Redis. */
export interface ScheduleRepository {
  /** Throws ScheduleKeyTakenError when the key exists. */
  create(definition: ScheduleDefinition): Promise<ScheduleRecord>;
  findByKey(key: string): Promise<ScheduleRecord | null>;
  /** A page of schedules by key (keyset: after `afterKey`); throws InvalidListLimitError. */
  list(input: ScheduleListInput): Promise<SchedulePage>;
  /**
   * Every schedule, and the revision sequence's value read after them: every write up to that
   * revision is reflected in the list (what beat's sync compares applied revisions with).
   */
  listWithRevision(): Promise<{ schedules: ScheduleRecord[]; revision: number }>;
  /**
   * Replaces the definition (the key stays) if the row still has `revision`; every write takes a
   * new revision from the table's sequence, so revisions order all writes of all keys.
   */
  update(
    key: string,
    definition: Omit<ScheduleDefinition, 'key'>,
    expected: { revision: number },
  ): Promise<ScheduleUpdateOutcome>;
  /** False when there was no such schedule. */
  delete(key: string): Promise<boolean>;
  /** The latest job of each key that has one (jobs.scheduler_id), newest by creation. */
  latestRuns(keys: readonly string[]): Promise<Map<string, ScheduleRun>>;
}

// Low-volume statements on the pool, like the job repository: the revision comes from the
// column's sequence on update, which Prisma's query builder cannot express.
export function createScheduleRepository(db: Pick<Db, 'pool'>): ScheduleRepository {
  const { pool } = db;

  return {
    create: (definition) =>
      withOutagesTranslated('create a schedule', async () => {
        try {
          const { rows } = await pool.query<ScheduleRecord>(
            `INSERT INTO schedules (key, type, payload, cron, timezone, every_seconds, paused,
                                    description)
             VALUES ($1, $2, $3::jsonb, $4, $5, $6::int, $7, $8)
             RETURNING ${SCHEDULE_COLUMNS}`,
            [definition.key, ...definitionValues(definition)],
          );
          return rows[0] as ScheduleRecord;
        } catch (error) {
          if ((error as { code?: unknown }).code === UNIQUE_VIOLATION) {
            throw new ScheduleKeyTakenError(definition.key, { cause: error });
          }
          throw error;
        }
      }),

    findByKey: (key) =>
      withOutagesTranslated('read a schedule', async () => {
        const { rows } = await pool.query<ScheduleRecord>(
          `SELECT ${SCHEDULE_COLUMNS} FROM schedules WHERE key = $1`,
          [key],
        );
        return rows[0] ?? null;
      }),

    list: (input) =>
      withOutagesTranslated('list schedules', async () => {
        if (
          !Number.isInteger(input.limit) ||
          input.limit < 0 ||
          input.limit > SCHEDULE_LIST_MAX_LIMIT
        ) {
          throw new InvalidListLimitError(
            `limit must be a whole number from 0 to ${SCHEDULE_LIST_MAX_LIMIT}, got ${input.limit}`,
          );
        }
        // byte order, whatever the database's collation: the order the api pages code-declared
        // schedules in, and stable across databases
        const { rows } = await pool.query<ScheduleRecord>(
          `SELECT ${SCHEDULE_COLUMNS} FROM schedules
            WHERE ($1::text IS NULL OR key COLLATE "C" > $1::text)
              AND NOT (key = ANY($2::text[]))
            ORDER BY key COLLATE "C"
            LIMIT $3::int`,
          [input.afterKey ?? null, input.excludeKeys ?? [], input.limit + 1],
        );
        return { schedules: rows.slice(0, input.limit), hasMore: rows.length > input.limit };
      }),

    listWithRevision: () =>
      withOutagesTranslated('list schedules', async () => {
        const { rows: schedules } = await pool.query<ScheduleRecord>(
          `SELECT ${SCHEDULE_COLUMNS} FROM schedules ORDER BY key COLLATE "C"`,
        );
        // after the rows: a sequence is not transactional, so this is at least every revision
        // those rows carry, and past every write (deletes included) that committed before it
        const { rows } = await pool.query<{ revision: number | null }>(
          `SELECT pg_sequence_last_value(pg_get_serial_sequence('schedules', 'revision')::regclass)::int
                    AS revision`,
        );
        return { schedules, revision: rows[0]?.revision ?? 0 };
      }),

    update: (key, definition, expected) =>
      withOutagesTranslated('update a schedule', async (): Promise<ScheduleUpdateOutcome> => {
        const { rows } = await pool.query<ScheduleRecord>(
          `UPDATE schedules
              SET type = $3, payload = $4::jsonb, cron = $5, timezone = $6, every_seconds = $7::int,
                  paused = $8, description = $9,
                  revision = nextval(pg_get_serial_sequence('schedules', 'revision')),
                  updated_at = now()
            WHERE key = $1 AND revision = $2::int
           RETURNING ${SCHEDULE_COLUMNS}`,
          [key, expected.revision, ...definitionValues(definition)],
        );
        if (rows[0]) return { outcome: 'updated', schedule: rows[0] };
        const current = await pool.query<ScheduleRecord>(
          `SELECT ${SCHEDULE_COLUMNS} FROM schedules WHERE key = $1`,
          [key],
        );
        return current.rows[0]
          ? { outcome: 'conflict', schedule: current.rows[0] }
          : { outcome: 'not_found' };
      }),

    delete: (key) =>
      withOutagesTranslated('delete a schedule', async () => {
        // a delete takes a revision too, so a later read's revision is past it
        const { rowCount } = await pool.query(
          `WITH deleted AS (DELETE FROM schedules WHERE key = $1 RETURNING key)
           SELECT nextval(pg_get_serial_sequence('schedules', 'revision')) FROM deleted`,
          [key],
        );
        return (rowCount ?? 0) > 0;
      }),

    latestRuns: (keys) =>
      withOutagesTranslated('read the latest runs of schedules', async () => {
        if (keys.length === 0) return new Map();
        // one index probe per key: jobs_scheduler_id_created_at_idx
        const { rows } = await pool.query<ScheduleRun & { key: string }>(
          `SELECT scheduled.key, run.id, run.status, run.created_at AS "createdAt"
             FROM unnest($1::text[]) AS scheduled(key)
             CROSS JOIN LATERAL (
               SELECT id, status, created_at FROM jobs
                WHERE scheduler_id = scheduled.key
                ORDER BY created_at DESC
                LIMIT 1) AS run`,
          [keys],
        );
        return new Map(rows.map(({ key, ...run }) => [key, run]));
      }),
  };
}

function definitionValues(definition: Omit<ScheduleDefinition, 'key'>): unknown[] {
  return [
    definition.type,
    toJson(definition.payload, 'payload'),
    definition.cron,
    definition.timezone,
    definition.everySeconds,
    definition.paused,
    definition.description,
  ];
}

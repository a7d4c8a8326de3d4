import type { Db } from '../create-db.ts';
import { withOutagesTranslated } from '../database-unavailable.ts';

/** A job reached a final status that an endpoint subscribes to (the `job_events` outbox). */
export interface JobEventRecord {
  /** Increasing; part of the deliveries' idempotency keys. */
  id: string;
  jobId: string;
  /** job.succeeded, job.failed, job.cancelled or job.expired */
  type: string;
  createdAt: Date;
}

/**
 * The outbox a trigger on `jobs` fills (see the webhook endpoints migration): the status change
 * and its event commit together, whichever process writes the status. Relaying an event is
 * reading it, creating its deliveries (idempotently), then removing it, so a relay that stops
 * half-way leaves the event for the next.
 */
export interface JobEventOutbox {
  /** The oldest events, at most `limit`. */
  next(limit: number): Promise<JobEventRecord[]>;
  remove(ids: readonly string[]): Promise<void>;
}

export function createJobEventOutbox(db: Pick<Db, 'pool'>): JobEventOutbox {
  const { pool } = db;
  return {
    next: (limit) =>
      withOutagesTranslated('read job events', async () => {
        const { rows } = await pool.query<JobEventRecord>(
          `SELECT id::text AS id, job_id AS "jobId", type, created_at AS "createdAt"
             FROM job_events ORDER BY id LIMIT $1::int`,
          [limit],
        );
        return rows;
      }),
    remove: (ids) =>
      withOutagesTranslated('remove relayed job events', async () => {
        if (ids.length === 0) return;
        await pool.query('DELETE FROM job_events WHERE id = ANY($1::bigint[])', [ids]);
      }),
  };
}

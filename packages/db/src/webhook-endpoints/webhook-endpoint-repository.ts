import type { Db } from '../create-db.ts';
import { withOutagesTranslated } from '../database-unavailable.ts';
import type { WebhookEndpoint } from '../generated/prisma/client.ts';
import { InvalidListLimitError } from '../jobs/job-errors.ts';
import { decodeCursor, encodeCursor, isUuid } from '../jobs/list-cursor.ts';

/** The most endpoints one `list()` call returns. */
export const WEBHOOK_ENDPOINT_LIST_MAX_LIMIT = 1_000;

/**
 * One row of `webhook_endpoints` (the Prisma model), its two JSON arrays typed. `secret` and
 * `previousSecret` are sealed (see @repo/webhooks' secret box): this repository never sees a
 * secret in the clear. `previousSecret` is null once its `previousSecretExpiresAt` has passed.
 */
export type WebhookEndpointRecord = Omit<WebhookEndpoint, 'eventTypes' | 'jobTypes'> & {
  eventTypes: string[];
  jobTypes: string[];
};

export interface CreateWebhookEndpointInput {
  /** Chosen by the caller, because the sealed secret is bound to it. */
  id: string;
  url: string;
  description?: string | null;
  eventTypes?: readonly string[];
  /** Empty: events of every job type. */
  jobTypes?: readonly string[];
  sealedSecret: string;
}

export interface UpdateWebhookEndpointInput {
  url?: string;
  description?: string | null;
  eventTypes?: readonly string[];
  jobTypes?: readonly string[];
}

export interface WebhookEndpointPage {
  endpoints: WebhookEndpointRecord[];
  nextCursor: string | null;
}

/** An endpoint's sealed secrets: the previous one while it still signs, else null. */
export interface SealedEndpointSecrets {
  id: string;
  secret: string;
  previousSecret: string | null;
}

/** An endpoint subscribed to job events: what the event relay matches events against. */
export type WebhookSubscription = Pick<WebhookEndpointRecord, 'id' | 'eventTypes' | 'jobTypes'>;

export interface WebhookEndpointRepository {
  create(input: CreateWebhookEndpointInput): Promise<WebhookEndpointRecord>;
  /** Null when there is no such endpoint (also for an id that is not a UUID). */
  findById(id: string): Promise<WebhookEndpointRecord | null>;
  /** Newest first, keyset-paginated like jobs; throws InvalidCursorError, InvalidListLimitError. */
  list(input: { limit: number; cursor?: string | undefined }): Promise<WebhookEndpointPage>;
  /** Changes the fields given; null when there is no such endpoint. */
  update(id: string, input: UpdateWebhookEndpointInput): Promise<WebhookEndpointRecord | null>;
  /** False when there was no such endpoint. */
  delete(id: string): Promise<boolean>;
  /**
   * The new sealed secret signs from now on; the one it replaces keeps signing too until
   * `previousValidForMs` from now (a second rotation within that time drops the oldest).
   */
  rotateSecret(
    id: string,
    sealedSecret: string,
    previousValidForMs: number,
  ): Promise<WebhookEndpointRecord | null>;
  /** Every endpoint that receives at least one job event type. */
  subscriptions(): Promise<WebhookSubscription[]>;
  /** Up to `limit` endpoints' sealed secrets, by id, after the id `after` (paging through all). */
  sealedSecrets(input: { after?: string; limit: number }): Promise<SealedEndpointSecrets[]>;
  /**
   * Writes an endpoint's secrets sealed anew (another key, the same secrets) if they are still
   * `current`; false when they changed meanwhile (a rotation) or the endpoint is gone.
   */
  replaceSealedSecrets(
    current: SealedEndpointSecrets,
    next: Omit<SealedEndpointSecrets, 'id'>,
  ): Promise<boolean>;
}

/** The previous secret while it still signs (a rotation's overlap), else null. */
const STILL_SIGNING_PREVIOUS_SECRET =
  'CASE WHEN previous_secret_expires_at > now() THEN previous_secret END';

const COLUMNS = `id, url, description, event_types AS "eventTypes", job_types AS "jobTypes", secret,
  ${STILL_SIGNING_PREVIOUS_SECRET} AS "previousSecret",
  CASE WHEN previous_secret_expires_at > now() THEN previous_secret_expires_at END
    AS "previousSecretExpiresAt",
  created_at AS "createdAt", updated_at AS "updatedAt"`;

export function createWebhookEndpointRepository(db: Pick<Db, 'pool'>): WebhookEndpointRepository {
  const { pool } = db;
  const rows = async (text: string, values: unknown[] = []) =>
    (await pool.query<WebhookEndpointRecord>(text, values)).rows;
  const firstRow = async (text: string, values: unknown[] = []) =>
    (await rows(text, values))[0] ?? null;
  const jsonArray = (values: readonly string[] | undefined) =>
    values === undefined ? null : JSON.stringify(values);

  return {
    create: (input) =>
      withOutagesTranslated('create a webhook endpoint', async () => {
        const created = await firstRow(
          `INSERT INTO webhook_endpoints (id, url, description, event_types, job_types, secret)
           VALUES ($1::uuid, $2, $3, COALESCE($4::jsonb, '[]'), COALESCE($5::jsonb, '[]'), $6)
           RETURNING ${COLUMNS}`,
          [
            input.id,
            input.url,
            input.description ?? null,
            jsonArray(input.eventTypes),
            jsonArray(input.jobTypes),
            input.sealedSecret,
          ],
        );
        if (!created) throw new Error(`webhook endpoint ${input.id} was not inserted`);
        return created;
      }),

    findById: (id) =>
      withOutagesTranslated('read a webhook endpoint', async () => {
        if (!isUuid(id)) return null;
        return firstRow(`SELECT ${COLUMNS} FROM webhook_endpoints WHERE id = $1::uuid`, [id]);
      }),

    list: (input) =>
      withOutagesTranslated('list webhook endpoints', async () => {
        if (
          !Number.isInteger(input.limit) ||
          input.limit < 1 ||
          input.limit > WEBHOOK_ENDPOINT_LIST_MAX_LIMIT
        ) {
          throw new InvalidListLimitError(
            `limit must be a whole number from 1 to ${WEBHOOK_ENDPOINT_LIST_MAX_LIMIT}, got ${input.limit}`,
          );
        }
        const after = input.cursor === undefined ? null : decodeCursor(input.cursor);
        const found = await rows(
          `SELECT ${COLUMNS} FROM webhook_endpoints
            WHERE $1::timestamptz IS NULL OR (created_at, id) < ($1::timestamptz, $2::uuid)
            ORDER BY created_at DESC, id DESC
            LIMIT $3::int`,
          [after?.createdAt ?? null, after?.id ?? null, input.limit + 1],
        );
        const endpoints = found.slice(0, input.limit);
        const last = endpoints.at(-1);
        return {
          endpoints,
          nextCursor: found.length > input.limit && last ? encodeCursor(last) : null,
        };
      }),

    update: (id, input) =>
      withOutagesTranslated('update a webhook endpoint', async () => {
        if (!isUuid(id)) return null;
        return firstRow(
          `UPDATE webhook_endpoints
              SET url = COALESCE($2, url),
                  description = CASE WHEN $3::boolean THEN $4 ELSE description END,
                  event_types = COALESCE($5::jsonb, event_types),
                  job_types = COALESCE($6::jsonb, job_types),
                  updated_at = now()
            WHERE id = $1::uuid
           RETURNING ${COLUMNS}`,
          [
            id,
            input.url ?? null,
            input.description !== undefined,
            input.description ?? null,
            jsonArray(input.eventTypes),
            jsonArray(input.jobTypes),
          ],
        );
      }),

    delete: (id) =>
      withOutagesTranslated('delete a webhook endpoint', async () => {
        if (!isUuid(id)) return false;
        const { rowCount } = await pool.query('DELETE FROM webhook_endpoints WHERE id = $1::uuid', [
          id,
        ]);
        return (rowCount ?? 0) > 0;
      }),

    rotateSecret: (id, sealedSecret, previousValidForMs) =>
      withOutagesTranslated('rotate a webhook endpoint secret', async () => {
        if (!isUuid(id)) return null;
        return firstRow(
          `UPDATE webhook_endpoints
              SET previous_secret = secret,
                  previous_secret_expires_at = now() + make_interval(secs => $3::float8 / 1000),
                  secret = $2,
                  updated_at = now()
            WHERE id = $1::uuid
           RETURNING ${COLUMNS}`,
          [id, sealedSecret, previousValidForMs],
        );
      }),

    subscriptions: () =>
      withOutagesTranslated('read the webhook subscriptions', () =>
        pool
          .query<WebhookSubscription>(
            `SELECT id, event_types AS "eventTypes", job_types AS "jobTypes"
               FROM webhook_endpoints WHERE event_types <> '[]'::jsonb`,
          )
          .then((result) => result.rows),
      ),

    sealedSecrets: ({ after, limit }) =>
      withOutagesTranslated(
        'read the sealed webhook secrets',
        async () =>
          (
            await pool.query<SealedEndpointSecrets>(
              `SELECT id, secret, ${STILL_SIGNING_PREVIOUS_SECRET} AS "previousSecret"
               FROM webhook_endpoints
              WHERE $1::uuid IS NULL OR id > $1::uuid ORDER BY id LIMIT $2`,
              [after ?? null, limit],
            )
          ).rows,
      ),

    replaceSealedSecrets: (current, next) =>
      withOutagesTranslated('reseal a webhook endpoint secret', async () => {
        // updated_at stays: the endpoint's settings and secrets are what they were (a previous
        // secret that no longer signs is dropped)
        const { rowCount } = await pool.query(
          `UPDATE webhook_endpoints SET secret = $4, previous_secret = $5
            WHERE id = $1::uuid AND secret = $2
              AND ${STILL_SIGNING_PREVIOUS_SECRET} IS NOT DISTINCT FROM $3`,
          [current.id, current.secret, current.previousSecret, next.secret, next.previousSecret],
        );
        return (rowCount ?? 0) > 0;
      }),
  };
}

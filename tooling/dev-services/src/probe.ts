import { Redis, ReplyError } from 'ioredis';
import pg from 'pg';

/** How long a service may take to answer before it counts as absent. */
const PROBE_TIMEOUT_MS = 3_000;

/**
 * Whether a PostgreSQL server answers at `url`. A refusal by the server itself (a missing
 * database, a wrong password) still counts as an answer: something is there, and it is not for
 * this tool to replace it.
 */
export async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: PROBE_TIMEOUT_MS,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return true;
  } catch (error) {
    // errors from the server carry a SQLSTATE (e.g. 3D000, 28P01); network errors do not
    return typeof (error as { severity?: unknown }).severity === 'string';
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Whether a Redis server answers at `url` (an authentication error counts as an answer). */
export async function redisAnswers(url: string): Promise<boolean> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: PROBE_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    return true;
  } catch (error) {
    return error instanceof ReplyError;
  } finally {
    redis.disconnect();
  }
}

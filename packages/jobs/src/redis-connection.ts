import { hasUnreachableSocketCode } from '@repo/outages';
import { Redis } from 'ioredis';

/**
 * What a command does while Redis cannot be reached:
 * - `wait-for-reconnect`: it waits (offline queue, retried forever: maxRetriesPerRequest null,
 *   which BullMQ workers require), so a Redis restart only pauses the process. Workers, beat.
 * - `fail-fast`: it fails at once (no offline queue, one retry), so a Redis outage becomes a 503
 *   within a second instead of requests hanging until their timeout. The API.
 */
export type RedisOutageMode = 'wait-for-reconnect' | 'fail-fast';

export interface RedisConnectionOptions {
  url: string;
  /** IP family for host lookups: 0 resolves IPv6 and IPv4 alike (Railway's private network is IPv6-only). */
  family: 0 | 4 | 6;
  onOutage: RedisOutageMode;
  /** Shown in CLIENT LIST. */
  connectionName: string;
}

export function createRedisConnection({
  url,
  family,
  onOutage,
  connectionName,
}: RedisConnectionOptions): Redis {
  return new Redis(url, {
    connectionName,
    family,
    connectTimeout: 5_000,
    ...(onOutage === 'wait-for-reconnect'
      ? { maxRetriesPerRequest: null, enableOfflineQueue: true }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false }),
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  });
}

/** A bounded PING for health checks. */
export async function pingRedis(redis: Redis): Promise<void> {
  const reply = await redis.ping();
  if (reply !== 'PONG') throw new Error(`unexpected PING reply: ${reply}`);
}

// What ioredis and BullMQ raise when Redis cannot be reached. A fail-fast connection has no
// offline queue, so while Redis is down commands fail at once with one of these instead of
// waiting for a reconnect.
const UNAVAILABLE_MESSAGES = [
  "Stream isn't writeable and enableOfflineQueue options is false",
  'Connection is closed.',
  'Command timed out',
];
// Redis answers these while it cannot take writes: loading its data set, a replica, or full
// under maxmemory-policy noeviction. Each passes once Redis (or its operator) recovers.
const UNAVAILABLE_REPLY_PREFIXES = ['LOADING ', 'READONLY ', 'MASTERDOWN ', 'OOM ', 'BUSY '];

/**
 * For the error of a Redis call (ioredis or BullMQ): true when it means Redis cannot be reached
 * or cannot take writes right now. Only the error itself is looked at, never its `cause`, and only
 * errors known to come from a Redis call should be asked about: a socket code such as ECONNREFUSED
 * means "Redis is down" there, but an HTTP client or PostgreSQL raise the same codes.
 */
export function isRedisUnavailableError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'MaxRetriesPerRequestError' || error.name === 'ConnectionClosedError') {
    return true;
  }
  if (hasUnreachableSocketCode(error)) return true;
  return (
    UNAVAILABLE_MESSAGES.includes(error.message) ||
    UNAVAILABLE_REPLY_PREFIXES.some((prefix) => error.message.startsWith(prefix))
  );
}

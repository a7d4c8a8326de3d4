import type { Redis } from 'ioredis';

/** The only maxmemory-policy under which Redis never drops BullMQ's keys. */
const REQUIRED_EVICTION_POLICY = 'noeviction';

/**
 * Redis may evict keys (its maxmemory-policy is not noeviction), or it cannot be told whether it
 * may. Under memory pressure an evicting Redis silently drops jobs, locks and schedulers, and a
 * dropped running job leaves its row running until reconcile finds it.
 */
export class RedisEvictionPolicyError extends Error {
  override readonly name = 'RedisEvictionPolicyError';
  /** The policy Redis reported; null when it could not be read. */
  readonly policy: string | null;

  constructor(message: string, policy: string | null, options?: { cause?: unknown }) {
    super(message, options);
    this.policy = policy;
  }
}

/**
 * Resolves when Redis's maxmemory-policy is noeviction; rejects with RedisEvictionPolicyError
 * otherwise, for readiness checks. Asks `CONFIG GET maxmemory-policy`; managed Redis often
 * refuses CONFIG (renamed away, or denied by an ACL), and then the `maxmemory_policy` line of
 * `INFO memory` answers. Connection errors are passed on as they are: the Redis check reports
 * those.
 */
export async function checkRedisEvictionPolicy(redis: Redis): Promise<void> {
  const policy = await readEvictionPolicy(redis);
  if (policy !== REQUIRED_EVICTION_POLICY) {
    throw new RedisEvictionPolicyError(
      `Redis's maxmemory-policy is ${policy}, so under memory pressure it evicts keys and can silently lose BullMQ jobs, locks and schedulers. Set maxmemory-policy to ${REQUIRED_EVICTION_POLICY} (docs/deploy.md, Troubleshooting).`,
      policy,
    );
  }
}

async function readEvictionPolicy(redis: Redis): Promise<string> {
  let configRefusal: string;
  try {
    const policy = policyFromConfig(await redis.config('GET', 'maxmemory-policy'));
    if (policy !== null) return policy;
    configRefusal = 'CONFIG GET maxmemory-policy answered without it';
  } catch (error) {
    if (!isReplyError(error)) throw error;
    configRefusal = `CONFIG GET was refused (${(error as Error).message})`;
  }
  let info: string;
  try {
    info = await redis.info('memory');
  } catch (error) {
    if (!isReplyError(error)) throw error;
    throw cannotTell(`${configRefusal}, and so was INFO (${(error as Error).message})`, error);
  }
  const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
  if (policy === undefined) {
    throw cannotTell(`${configRefusal}, and INFO memory has no maxmemory_policy line`);
  }
  return policy;
}

function cannotTell(why: string, cause?: unknown): RedisEvictionPolicyError {
  return new RedisEvictionPolicyError(
    `Cannot tell whether Redis may evict keys: ${why}. BullMQ needs maxmemory-policy ${REQUIRED_EVICTION_POLICY}; allow CONFIG GET or INFO for this connection's user.`,
    null,
    cause === undefined ? undefined : { cause },
  );
}

/** RESP2 answers [name, value]; RESP3 a map. */
function policyFromConfig(reply: unknown): string | null {
  if (Array.isArray(reply)) return typeof reply[1] === 'string' ? reply[1] : null;
  if (reply instanceof Map) return (reply.get('maxmemory-policy') as string | undefined) ?? null;
  if (reply !== null && typeof reply === 'object') {
    const value = (reply as Record<string, unknown>)['maxmemory-policy'];
    return typeof value === 'string' ? value : null;
  }
  return null;
}

/** An error reply from Redis (unknown command, NOPERM …), as opposed to no answer at all. */
function isReplyError(error: unknown): boolean {
  return error instanceof Error && error.name === 'ReplyError';
}

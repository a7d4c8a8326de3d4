/** What `INFO memory` says about the limits BullMQ's keys live under. */
export interface RedisMemory {
  usedBytes: number;
  /** `maxmemory`; 0 means no limit (the machine's memory is). */
  maxBytes: number;
  /** `maxmemory_policy`; BullMQ needs noeviction. */
  policy: string;
}

/** Reads `INFO memory` (one round trip; managed Redis allows INFO where it refuses CONFIG). */
export async function readRedisMemory(redis: {
  info(section: 'memory'): Promise<string>;
}): Promise<RedisMemory> {
  const info = await redis.info('memory');
  const field = (name: string) => new RegExp(`^${name}:(\\S+)`, 'm').exec(info)?.[1];
  return {
    usedBytes: Number(field('used_memory') ?? Number.NaN),
    maxBytes: Number(field('maxmemory') ?? Number.NaN),
    policy: field('maxmemory_policy') ?? 'unknown',
  };
}

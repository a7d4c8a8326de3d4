import { describeEnv, json, secretUrl } from '@repo/config';
import { z } from 'zod';
import { jobTypeLimitsOverride } from './fair-execution/limits.ts';

const redis = z.object({
  REDIS_URL: describeEnv(secretUrl(['redis', 'rediss']), {
    description:
      'Redis connection URL (rediss:// for TLS). Redis must run with maxmemory-policy noeviction.',
    example: 'redis://default:password@localhost:6379',
    secret: true,
  }),
  REDIS_FAMILY: describeEnv(
    z
      .enum(['0', '4', '6'])
      .prefault('0')
      .transform((family) => Number(family) as 0 | 4 | 6),
    {
      description:
        'IP family for Redis host lookups: 0 tries IPv6 and IPv4 (needed on IPv6-only private networks such as Railway), 4 or 6 forces one.',
    },
  ),
  QUEUE_PREFIX: describeEnv(
    z
      .string()
      .regex(/^[\w:{}-]{1,64}$/, 'expected 1-64 characters of letters, digits, _ - : { }')
      .prefault('jobstack'),
    {
      description:
        'Prefix of every BullMQ key in Redis. Use a hash tag such as {jobstack} on Redis Cluster.',
    },
  ),
});

/** The variables of a process that uses the job queue. */
export const redisEnv = () => redis;
export type RedisEnv = z.output<typeof redis>;

const jobLimits = z.object({
  JOB_LIMITS: describeEnv(json(z.record(z.string(), jobTypeLimitsOverride)).prefault('{}'), {
    description:
      "Overrides of the job types' execution limits (packages/jobs README: fair execution), as JSON by job type: maxConcurrent (across all workers), maxConcurrentPerKey (jobs with the same concurrencyKey running at once), rateLimitPerKey {max, perSeconds} (starts per concurrencyKey per window). A field replaces the contract's value, null lifts it; an unknown type stops the process at start. The api and every worker must use the same value: both park jobs on arrival by it (a job at a full limit is added already parked), and the api answers a job's waitingFor by it (a queued job no limit applies to is not waiting for one).",
    example:
      '{"webhook.deliver":{"maxConcurrentPerKey":5,"rateLimitPerKey":{"max":10,"perSeconds":1}}}',
  }),
});

/** The variables of a process that runs or enqueues jobs under the types' limits (the worker, the api). */
export const jobLimitsEnv = () => jobLimits;
export type JobLimitsEnv = z.output<typeof jobLimits>;

import { z } from 'zod';
import {
  boolean,
  describeEnv,
  duration,
  integer,
  json,
  standardWebhooksSecret,
} from '../env-values.ts';

const limit = z.int().min(1).max(100_000);

/**
 * The limits of one job type, each replacing the contract's (packages/jobs) when present; `null`
 * lifts a limit the contract declares.
 */
export const jobTypeLimitsOverride = z.strictObject({
  maxConcurrent: limit.nullish(),
  maxConcurrentPerKey: limit.nullish(),
  rateLimitPerKey: z.strictObject({ max: limit, perSeconds: z.int().min(1).max(86_400) }).nullish(),
});
export type JobTypeLimitsOverride = z.output<typeof jobTypeLimitsOverride>;

export const workerEnv = z.object({
  WORKER_CONCURRENCY: describeEnv(integer({ min: 1, max: 1_000 }).prefault('10'), {
    description: 'Jobs one worker process runs at once. Total = this x worker replicas.',
  }),
  JOB_LOCK_DURATION: describeEnv(duration({ min: 5_000 }).prefault('30s'), {
    description:
      "How long a job's lock lasts without renewal; the worker renews it at half this. A worker silent for longer loses the job to stalled recovery.",
  }),
  JOB_STALLED_INTERVAL: describeEnv(duration({ min: 1_000 }).prefault('30s'), {
    description:
      'How often workers look for jobs whose worker died (stalled) and return them to the queue.',
  }),
  JOB_MAX_STALLED_COUNT: describeEnv(integer({ min: 0, max: 100 }).prefault('2'), {
    description:
      'How many times a job may be recovered after its worker died before it fails. 2 survives one crash plus one deploy.',
  }),
  JOB_LIMITS: describeEnv(json(z.record(z.string(), jobTypeLimitsOverride)).prefault('{}'), {
    description:
      "Overrides of the job types' execution limits (packages/jobs README: fair execution), as JSON by job type: maxConcurrent (across all workers), maxConcurrentPerKey (jobs with the same concurrencyKey running at once), rateLimitPerKey {max, perSeconds} (starts per concurrencyKey per window). A field replaces the contract's value, null lifts it. Every worker must use the same value.",
    example:
      '{"webhook.deliver":{"maxConcurrentPerKey":5,"rateLimitPerKey":{"max":10,"perSeconds":1}}}',
  }),
});
export type WorkerConfig = z.output<typeof workerEnv>;

export const webhookEnv = z.object({
  WEBHOOK_SIGNING_SECRET: describeEnv(standardWebhooksSecret(), {
    description:
      'Signs webhook deliveries (HMAC-SHA256), in the Standard Webhooks format: whsec_ followed by the base64 of 24 to 64 random bytes. Receivers verify with the same value (README: Webhooks). Generate with: echo "whsec_$(openssl rand -base64 32)"',
    example: 'whsec_<base64 of 32 random bytes>',
    secret: true,
  }),
  WEBHOOK_TIMEOUT: describeEnv(duration({ min: 100, max: 300_000 }).prefault('10s'), {
    description: 'Per-request timeout of a webhook delivery.',
  }),
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: describeEnv(boolean().prefault('false'), {
    description:
      'Allow deliveries to loopback, private and link-local addresses. Off by default so a job cannot probe the internal network.',
  }),
});
export type WebhookConfig = z.output<typeof webhookEnv>;

export const maintenanceEnv = z.object({
  RECONCILE_AFTER: describeEnv(duration({ min: 1_000 }).prefault('2m'), {
    description:
      'maintenance.reconcile checks job rows queued or running untouched for this long against their BullMQ jobs: one whose BullMQ job is missing (a crash between commit and enqueue, a job Redis lost) is enqueued again with the attempts it has left, one BullMQ failed for good is marked failed.',
  }),
  JOB_RETENTION: describeEnv(duration({ min: 60_000 }).prefault('30d'), {
    description: 'Finished job rows older than this are deleted by maintenance.prune.',
  }),
  PRUNE_BATCH_SIZE: describeEnv(integer({ min: 1, max: 100_000 }).prefault('1000'), {
    description: 'Rows deleted per statement by maintenance.prune.',
  }),
});
export type MaintenanceConfig = z.output<typeof maintenanceEnv>;

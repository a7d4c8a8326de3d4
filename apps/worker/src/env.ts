import { describeEnv, duration, integer, runtimeEnv, standardWebhooksSecret } from '@repo/config';
import { databaseEnv, migrationEnv } from '@repo/db/env';
import { healthCheckEnv, healthServerEnv } from '@repo/health/env';
import { jobLimitsEnv, redisEnv } from '@repo/jobs/env';
import { shutdownEnv } from '@repo/lifecycle/env';
import { allowsRawUrls, webhookEndpointsEnv } from '@repo/webhooks/env';
import { z } from 'zod';

export const jobWorkerEnv = z.object({
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
  JOB_RUNNING_STATUS_DELAY: describeEnv(duration({ max: 60_000 }).prefault('250ms'), {
    description:
      "How long a job's handler runs before the worker writes the job's status `running`. A job that ends sooner goes from queued straight to its outcome, which records its start (one write per job instead of two); a cancellation is then answered 202 cancel_requested as for a running job. 0ms writes `running` before every handler. Jobs enqueued without their row's attempt count (scheduled runs, older versions), jobs with a ttl and every delivery of a job after its first (retries, jobs put back) are always marked running first.",
  }),
});
export type JobWorkerConfig = z.output<typeof jobWorkerEnv>;

export const webhookEnv = z.object({
  ...webhookEndpointsEnv().shape,
  WEBHOOK_SIGNING_SECRET: describeEnv(standardWebhooksSecret().optional(), {
    description:
      'Signs webhook deliveries to raw URLs (HMAC-SHA256), in the Standard Webhooks format: whsec_ followed by the base64 of 24 to 64 random bytes; required where WEBHOOK_ALLOW_RAW_URLS is on (deliveries to endpoints use their own secrets). Receivers verify with the same value (README: Webhooks). Generate with: echo "whsec_$(openssl rand -base64 32)"',
    example: 'whsec_<base64 of 32 random bytes>',
    secret: true,
  }),
  WEBHOOK_TIMEOUT: describeEnv(duration({ min: 100, max: 300_000 }).prefault('10s'), {
    description: 'Per-request timeout of a webhook delivery.',
  }),
});
export type WebhookConfig = z.output<typeof webhookEnv> & { NODE_ENV: string };

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

/** Every variable the worker reads: the packages' fragments it uses and its own. */
export const workerEnv = z
  .object({
    ...runtimeEnv().shape,
    ...databaseEnv().shape,
    ...migrationEnv().shape,
    ...redisEnv().shape,
    ...jobWorkerEnv.shape,
    ...jobLimitsEnv().shape,
    ...webhookEnv.shape,
    ...maintenanceEnv.shape,
    ...shutdownEnv().shape,
    ...healthServerEnv(8001).shape,
    ...healthCheckEnv().shape,
  })
  .superRefine((env, ctx) => {
    if (allowsRawUrls(env) && env.WEBHOOK_SIGNING_SECRET === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['WEBHOOK_SIGNING_SECRET'],
        message:
          'is required while deliveries to raw URLs are allowed (WEBHOOK_ALLOW_RAW_URLS, true by default outside production): set it, or set WEBHOOK_ALLOW_RAW_URLS=false',
      });
    }
  });
export type WorkerConfig = z.output<typeof workerEnv>;

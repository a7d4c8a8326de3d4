import { describeEnv, duration, integer, runtimeEnv, secretList, secretString } from '@repo/config';
import { databaseEnv, migrationEnv } from '@repo/db/env';
import { healthCheckEnv } from '@repo/health/env';
import { jobLimitsEnv, redisEnv } from '@repo/jobs/env';
import { drainEnv, shutdownEnv } from '@repo/lifecycle/env';
import { webhookEndpointsEnv } from '@repo/webhooks/env';
import { z } from 'zod';

const trustProxy = z
  .string()
  .trim()
  .transform((value, ctx): boolean | number | string[] => {
    if (value === 'true') return true;
    if (value === 'false') return false;
    if (/^\d+$/.test(value)) return Number(value);
    const entries = value.split(',').map((entry) => entry.trim());
    if (entries.every((entry) => /^[\w.:/-]+$/.test(entry))) return entries;
    ctx.addIssue({
      code: 'custom',
      message: 'expected false, true, a number of proxy hops, or comma-separated addresses/subnets',
    });
    return z.NEVER;
  });

const http = z.object({
  PORT: describeEnv(integer({ min: 1, max: 65_535 }).prefault('8000'), {
    description: 'Port the HTTP API listens on (Render and Railway set it).',
  }),
  HOST: describeEnv(z.string().min(1).prefault('::'), {
    description: 'Address to listen on; :: accepts IPv6 and IPv4.',
  }),
  TRUST_PROXY: describeEnv(trustProxy.prefault('false'), {
    description:
      "Express 'trust proxy': how many proxies (or which addresses) sit in front and may set X-Forwarded-*. Render and Railway put one in front: 1.",
    example: '1',
  }),
  BODY_LIMIT: describeEnv(
    z
      .string()
      .regex(/^\d+(b|kb|mb)$/i, 'expected a size such as 100kb or 1mb')
      .prefault('100kb'),
    { description: 'Largest JSON request body accepted; larger bodies get 413.' },
  ),
  REQUEST_TIMEOUT: describeEnv(duration({ min: 1_000 }).prefault('30s'), {
    description: 'Requests that take longer are answered 503 and their socket closed.',
  }),
});

const auth = z.object({
  API_KEYS: describeEnv(secretList({ minLength: 16 }).optional(), {
    description:
      'Comma-separated bearer tokens accepted on /v1 (several at once for rotation). Required in production.',
    example: 'key-for-service-a-0123456789,key-for-service-b-0123456789',
    secret: true,
    requiredInProduction: true,
  }),
  METRICS_TOKEN: describeEnv(secretString({ minLength: 16 }).optional(), {
    description: 'When set, GET /metrics requires Authorization: Bearer <this token>.',
    secret: true,
  }),
  ADMIN_USERNAME: describeEnv(z.string().min(1).optional(), {
    description:
      'HTTP basic auth user for the /admin/queues dashboard; without it the dashboard is off (404).',
    example: 'admin',
  }),
  ADMIN_PASSWORD: describeEnv(secretString({ minLength: 12 }).optional(), {
    description: 'HTTP basic auth password for the /admin/queues dashboard.',
    secret: true,
  }),
});

/** Every variable the api reads: the packages' fragments it uses and its own. */
export const apiEnv = z
  .object({
    ...runtimeEnv().shape,
    ...databaseEnv().shape,
    ...migrationEnv().shape,
    ...redisEnv().shape,
    // the workers' limits: the api parks a job on arrival when a limit of it is full
    ...jobLimitsEnv().shape,
    ...http.shape,
    ...auth.shape,
    ...shutdownEnv().shape,
    ...drainEnv().shape,
    ...healthCheckEnv().shape,
    ...webhookEndpointsEnv().shape,
  })
  .superRefine((env, ctx) => {
    if ((env.ADMIN_USERNAME === undefined) !== (env.ADMIN_PASSWORD === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.ADMIN_USERNAME === undefined ? 'ADMIN_USERNAME' : 'ADMIN_PASSWORD'],
        message:
          'ADMIN_USERNAME and ADMIN_PASSWORD go together: set both to enable the dashboard, or neither',
      });
    }
  });
export type ApiConfig = z.output<typeof apiEnv>;
export type HttpConfig = z.output<typeof http>;

/**
 * The one-off `reseal-webhook-secrets` command (docs/operations.md): a part of the api's own
 * environment, so it runs with the api's settings as they are (`docker compose run --rm api …`).
 */
export const resealWebhookSecretsEnv = z
  .object({
    ...runtimeEnv().shape,
    ...databaseEnv().shape,
    ...webhookEndpointsEnv().shape,
  })
  .superRefine((env, ctx) => {
    if (env.WEBHOOK_SECRETS_KEY === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['WEBHOOK_SECRETS_KEY'],
        message: 'is required: the key to seal every endpoint secret with',
      });
    }
  });
export type ResealWebhookSecretsConfig = z.output<typeof resealWebhookSecretsEnv>;

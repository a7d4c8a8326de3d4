import { boolean, describeEnv, runsAsProduction, Secret } from '@repo/config';
import { z } from 'zod';
import { parseSecretsKey } from './secret-box.ts';

/** The key that seals the endpoints' signing secrets, checked and decoded to its 32 bytes. */
const secretsKey = () =>
  z
    .string()
    .trim()
    .transform((value, ctx) => {
      const parsed = parseSecretsKey(value);
      if ('problem' in parsed) {
        ctx.addIssue({ code: 'custom', message: parsed.problem });
        return z.NEVER;
      }
      return new Secret(parsed.key);
    });

const webhookEndpoints = z.object({
  WEBHOOK_SECRETS_KEY: describeEnv(secretsKey().optional(), {
    description:
      "Encrypts the webhook endpoints' signing secrets at rest (AES-256-GCM): 32 random bytes as base64 or hex. The api and the worker need the same value; a lost key makes every endpoint's secret unreadable (rotate each one). Generate with: openssl rand -base64 32",
    example: '<base64 of 32 random bytes>',
    secret: true,
    requiredInProduction: true,
  }),
  WEBHOOK_ALLOW_RAW_URLS: describeEnv(boolean().optional(), {
    description:
      'Accept webhook.deliver jobs with a raw `url` (signed with WEBHOOK_SIGNING_SECRET) besides an `endpointId`. Defaults to false in production, where any API client could otherwise make the service sign requests of its own making to any receiver, and to true in development and test.',
    example: 'false',
  }),
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: describeEnv(boolean().prefault('false'), {
    description:
      'Allow webhook endpoints and deliveries on loopback, private and link-local addresses. Off by default so a job cannot probe the internal network.',
  }),
});

/** WEBHOOK_SECRETS_KEY, WEBHOOK_ALLOW_RAW_URLS and WEBHOOK_ALLOW_PRIVATE_NETWORKS: the api and the worker read them alike. */
export const webhookEndpointsEnv = () => webhookEndpoints;
export type WebhookEndpointsConfig = z.output<typeof webhookEndpoints>;

/** WEBHOOK_ALLOW_RAW_URLS, or its default for NODE_ENV: false in production, true otherwise. */
export function allowsRawUrls(
  config: Pick<WebhookEndpointsConfig, 'WEBHOOK_ALLOW_RAW_URLS'> & { NODE_ENV?: string },
): boolean {
  return config.WEBHOOK_ALLOW_RAW_URLS ?? !runsAsProduction(config.NODE_ENV);
}

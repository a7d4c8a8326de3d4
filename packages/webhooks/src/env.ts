import { boolean, describeEnv, runsAsProduction, Secret } from '@repo/config';
import { z } from 'zod';
import { createSecretBox, parseSecretsKey, type SecretBox } from './secret-box.ts';

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

/** Keys that sealed secrets before the current one, comma-separated, each as the key is written. */
const previousSecretsKeys = () =>
  z
    .string()
    .trim()
    .transform((value, ctx) => {
      const keys: Buffer[] = [];
      for (const [index, text] of value.split(',').entries()) {
        if (text.trim() === '') continue;
        const parsed = parseSecretsKey(text);
        if ('problem' in parsed) {
          ctx.addIssue({ code: 'custom', message: `key ${index + 1}: ${parsed.problem}` });
          return z.NEVER;
        }
        keys.push(parsed.key);
      }
      return new Secret(keys);
    });

const webhookEndpoints = z.object({
  WEBHOOK_SECRETS_KEY: describeEnv(secretsKey().optional(), {
    description:
      "Encrypts the webhook endpoints' signing secrets at rest (AES-256-GCM): 32 random bytes as base64 or hex. The api and the worker need the same value; a lost key makes every endpoint's secret unreadable (rotate each one). Generate with: openssl rand -base64 32",
    example: '<base64 of 32 random bytes>',
    secret: true,
    requiredInProduction: true,
  }),
  WEBHOOK_SECRETS_PREVIOUS_KEYS: describeEnv(previousSecretsKeys().optional(), {
    description:
      'Keys that sealed endpoint secrets before WEBHOOK_SECRETS_KEY, comma-separated, newest first: secrets are opened with any of them and sealed with WEBHOOK_SECRETS_KEY only. Set while changing the key; remove once `reseal-webhook-secrets` has resealed every endpoint (docs/operations.md).',
    example: '<the previous WEBHOOK_SECRETS_KEY>',
    secret: true,
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

/** WEBHOOK_SECRETS_KEY and its previous keys, WEBHOOK_ALLOW_RAW_URLS and WEBHOOK_ALLOW_PRIVATE_NETWORKS: the api and the worker read them alike. */
export const webhookEndpointsEnv = () => webhookEndpoints;
export type WebhookEndpointsConfig = z.output<typeof webhookEndpoints>;

/** The secret box the configuration describes; undefined without WEBHOOK_SECRETS_KEY. */
export function secretBoxFor(
  config: Pick<WebhookEndpointsConfig, 'WEBHOOK_SECRETS_KEY' | 'WEBHOOK_SECRETS_PREVIOUS_KEYS'>,
): SecretBox | undefined {
  const key = config.WEBHOOK_SECRETS_KEY?.reveal();
  return key === undefined
    ? undefined
    : createSecretBox(key, config.WEBHOOK_SECRETS_PREVIOUS_KEYS?.reveal() ?? []);
}

/** WEBHOOK_ALLOW_RAW_URLS, or its default for NODE_ENV: false in production, true otherwise. */
export function allowsRawUrls(
  config: Pick<WebhookEndpointsConfig, 'WEBHOOK_ALLOW_RAW_URLS'> & { NODE_ENV?: string },
): boolean {
  return config.WEBHOOK_ALLOW_RAW_URLS ?? !runsAsProduction(config.NODE_ENV);
}

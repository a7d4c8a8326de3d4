import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The delivery headers, following the Standard Webhooks layout (standardwebhooks.com):
 * - webhook-id: the job id, the same on every retry, so receivers can drop duplicates;
 * - webhook-timestamp: Unix seconds when this attempt was sent;
 * - webhook-signature: "v1," + base64(HMAC-SHA256(secret, `${id}.${timestamp}.${body}`)).
 */
export const WEBHOOK_HEADERS = {
  id: 'webhook-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
} as const;

export interface SignatureInput {
  id: string;
  /** Unix seconds. */
  timestamp: number;
  /** The exact bytes sent as the request body. */
  body: string;
  secret: string;
}

export function signWebhook({ id, timestamp, body, secret }: SignatureInput): string {
  const mac = createHmac('sha256', secret).update(`${id}.${timestamp}.${body}`).digest('base64');
  return `v1,${mac}`;
}

export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
}

/**
 * What a receiver runs: checks the signature in constant time and rejects timestamps outside
 * `toleranceSeconds`, which stops replays of an old, validly signed request.
 */
export function verifyWebhook(options: {
  headers: Record<string, string | string[] | undefined>;
  body: string;
  secret: string;
  toleranceSeconds?: number;
  now?: Date;
}): { id: string; timestamp: number } {
  const header = (name: string) => {
    const value = options.headers[name];
    if (typeof value !== 'string' || value === '') {
      throw new WebhookVerificationError(`missing ${name} header`);
    }
    return value;
  };
  const id = header(WEBHOOK_HEADERS.id);
  const timestamp = Number(header(WEBHOOK_HEADERS.timestamp));
  if (!Number.isInteger(timestamp))
    throw new WebhookVerificationError('malformed webhook-timestamp');
  const nowSeconds = Math.floor((options.now ?? new Date()).getTime() / 1000);
  if (Math.abs(nowSeconds - timestamp) > (options.toleranceSeconds ?? 300)) {
    throw new WebhookVerificationError('webhook-timestamp is outside the tolerance');
  }
  const expected = Buffer.from(
    signWebhook({ id, timestamp, body: options.body, secret: options.secret }),
  );
  // several space-separated signatures are allowed while a secret is rotated
  const matches = header(WEBHOOK_HEADERS.signature)
    .split(' ')
    .some((candidate) => {
      const given = Buffer.from(candidate);
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
  if (!matches) throw new WebhookVerificationError('signature does not match');
  return { id, timestamp };
}

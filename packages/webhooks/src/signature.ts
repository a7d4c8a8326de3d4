import { createHmac, timingSafeEqual } from 'node:crypto';
import { SIGNING_SECRET_PREFIX, signingKey, WebhookSigningError } from './signing-secret.ts';

/**
 * The delivery headers of the Standard Webhooks specification (standardwebhooks.com):
 * - webhook-id: the message id, the same on every retry, so receivers can drop duplicates;
 * - webhook-timestamp: Unix seconds when this attempt was sent;
 * - webhook-signature: space-separated `v1,` + base64(HMAC-SHA256(key, `${id}.${timestamp}.${body}`)),
 *   one per signing secret (several while a secret is rotated).
 */
export const WEBHOOK_HEADERS = {
  id: 'webhook-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
} as const;

/** Replays older than this, or timestamps this far ahead, are rejected (the official libraries' value). */
const DEFAULT_TOLERANCE_SECONDS = 300;

/**
 * The spec forbids `.` in the id (it delimits the signed content); the rest keeps the id a plain
 * token in a header, like Svix's `msg_…` ids and this project's job UUIDs.
 */
const MESSAGE_ID = /^[A-Za-z0-9_-]{1,256}$/;

export interface SignatureInput {
  /** The message id: letters, digits, `_` and `-`. */
  id: string;
  /** Unix seconds. */
  timestamp: number;
  /** The exact bytes sent as the request body. */
  body: string | Uint8Array;
  /**
   * One signing secret (`whsec_` + base64), or several while rotating: each signs, and every
   * signature is sent, so receivers holding any one of them verify.
   */
  secret: string | readonly string[];
}

/** The `webhook-signature` header value: one `v1,<base64>` per secret, space-separated. */
export function signWebhook({ id, timestamp, body, secret }: SignatureInput): string {
  if (!MESSAGE_ID.test(id)) {
    throw new WebhookSigningError(
      'a webhook id is 1 to 256 letters, digits, "_" or "-" (no ".", which delimits the signed content)',
    );
  }
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new WebhookSigningError('a webhook timestamp is a whole number of Unix seconds');
  }
  const secrets = typeof secret === 'string' ? [secret] : secret;
  if (secrets.length === 0) throw new WebhookSigningError('at least one signing secret is needed');
  return secrets.map((each) => `v1,${mac(signingKey(each), id, timestamp, body)}`).join(' ');
}

function mac(key: Buffer, id: string, timestamp: number, body: string | Uint8Array): string {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
}

/** The request is not a genuine, current delivery: answer it with 4xx. */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
}

/**
 * What a receiver runs, deciding every case as the official `standardwebhooks` library does:
 * header names in any case; the timestamp within `toleranceSeconds` either way (stops replays of
 * an old, validly signed request); any one of the space-separated `v1,` signatures matching, in
 * constant time. The one difference: a `webhook-timestamp` that is not plain digits is rejected,
 * where the JavaScript library's parseInt would read "1700000000abc" as a number.
 * The secret may omit its `whsec_` prefix, as the official libraries allow; a malformed secret
 * throws WebhookSigningError (a receiver misconfiguration, not a bad request).
 */
export function verifyWebhook(options: {
  headers: Record<string, string | string[] | undefined>;
  /** The raw body as received, before any JSON parsing. */
  body: string | Uint8Array;
  secret: string;
  toleranceSeconds?: number;
  now?: Date;
}): { id: string; timestamp: number } {
  const key = signingKey(
    options.secret.startsWith(SIGNING_SECRET_PREFIX)
      ? options.secret
      : `${SIGNING_SECRET_PREFIX}${options.secret}`,
  );
  const headers = new Map(
    Object.entries(options.headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
  const header = (name: string) => {
    const value = headers.get(name);
    if (typeof value !== 'string' || value === '') {
      throw new WebhookVerificationError(`missing ${name} header`);
    }
    return value;
  };
  const id = header(WEBHOOK_HEADERS.id);
  const timestampText = header(WEBHOOK_HEADERS.timestamp);
  const signatures = header(WEBHOOK_HEADERS.signature);
  if (!/^\d{1,15}$/.test(timestampText)) {
    throw new WebhookVerificationError('malformed webhook-timestamp');
  }
  const timestamp = Number(timestampText);
  const nowSeconds = Math.floor((options.now ?? new Date()).getTime() / 1000);
  if (Math.abs(nowSeconds - timestamp) > (options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) {
    throw new WebhookVerificationError('webhook-timestamp is outside the tolerance');
  }
  const expected = Buffer.from(mac(key, id, timestamp, options.body));
  const matches = signatures.split(' ').some((candidate) => {
    const [version, signature] = candidate.split(',');
    if (version !== 'v1' || signature === undefined) return false;
    const given = Buffer.from(signature);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) throw new WebhookVerificationError('signature does not match');
  return { id, timestamp };
}

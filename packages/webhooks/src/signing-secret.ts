import { randomBytes } from 'node:crypto';

/**
 * Standard Webhooks' symmetric secret format: `whsec_` + base64 of 24 to 64 random bytes. The
 * HMAC key is the decoded bytes, which is what the official libraries (npm `standardwebhooks` and
 * its ports) derive from the same string.
 */
export const SIGNING_SECRET_PREFIX = 'whsec_';
const SIGNING_KEY_BYTES = { min: 24, max: 64 } as const;

/** A new secret's key size: HMAC-SHA256's output size, the key length RFC 2104 recommends. */
const GENERATED_KEY_BYTES = 32;

/** The inputs of a signature are unusable (a malformed secret, a message id the spec forbids). */
export class WebhookSigningError extends Error {
  override readonly name = 'WebhookSigningError';
}

/**
 * The HMAC key of a signing secret. The `whsec_` prefix is required, as Svix requires it of the
 * secrets it is given: without it, a plain secret of the format before this one (whose raw
 * characters were the key) could pass for base64 and silently become a different key. The base64
 * must be canonical (standard alphabet, `=` padding): Node's decoder would otherwise skip stray
 * characters and accept URL-safe ones, giving a key that receivers' libraries decode differently
 * or refuse. Errors never contain the secret.
 */
export function signingKey(secret: string): Buffer {
  if (!secret.startsWith(SIGNING_SECRET_PREFIX)) {
    throw new WebhookSigningError(
      `a signing secret starts with ${SIGNING_SECRET_PREFIX}, followed by the base64 of ${SIGNING_KEY_BYTES.min} to ${SIGNING_KEY_BYTES.max} random bytes`,
    );
  }
  const encoded = secret.slice(SIGNING_SECRET_PREFIX.length);
  const key = Buffer.from(encoded, 'base64');
  if (encoded === '' || key.toString('base64') !== encoded) {
    throw new WebhookSigningError(
      `after ${SIGNING_SECRET_PREFIX}, a signing secret is standard base64 (A-Z a-z 0-9 + /, = padding)`,
    );
  }
  if (key.length < SIGNING_KEY_BYTES.min || key.length > SIGNING_KEY_BYTES.max) {
    throw new WebhookSigningError(
      `a signing secret's key is ${SIGNING_KEY_BYTES.min} to ${SIGNING_KEY_BYTES.max} bytes; this one decodes to ${key.length}`,
    );
  }
  return key;
}

/** A new random secret in the Standard Webhooks format, e.g. for a new endpoint. */
export function generateSigningSecret(): string {
  return `${SIGNING_SECRET_PREFIX}${randomBytes(GENERATED_KEY_BYTES).toString('base64')}`;
}

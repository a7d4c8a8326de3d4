import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** AES-256-GCM: a 32-byte key, a 96-bit nonce (what GCM is specified for), a 128-bit tag. */
const ALGORITHM = 'aes-256-gcm';
export const SECRETS_KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Names the format, so that a later one (another key, another cipher) can be told apart. */
const VERSION = 'v1';

/** A sealed value that does not open: altered, sealed for another context, or under another key. */
export class SecretBoxError extends Error {
  override readonly name = 'SecretBoxError';
}

/**
 * Encrypts the endpoints' signing secrets at rest (node:crypto's AES-256-GCM; no library needed
 * for one cipher call). `context` (the endpoint id) is authenticated with the value, so a sealed
 * secret copied onto another endpoint's row does not open there. Sealed text:
 * `v1.` + base64(nonce ‖ tag ‖ ciphertext).
 */
export interface SecretBox {
  seal(plaintext: string, context: string): string;
  /** Throws SecretBoxError; the message never contains the value. */
  open(sealed: string, context: string): string;
}

export function createSecretBox(key: Uint8Array): SecretBox {
  if (key.length !== SECRETS_KEY_BYTES) {
    throw new RangeError(`the secrets key is ${SECRETS_KEY_BYTES} bytes, not ${key.length}`);
  }
  const keyBytes = Buffer.from(key);
  return {
    seal(plaintext, context) {
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv(ALGORITHM, keyBytes, nonce, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const sealed = Buffer.concat([nonce, cipher.getAuthTag(), ciphertext]);
      return `${VERSION}.${sealed.toString('base64')}`;
    },
    open(sealed, context) {
      const [version, encoded, ...rest] = sealed.split('.');
      const bytes = Buffer.from(encoded ?? '', 'base64');
      if (version !== VERSION || rest.length > 0 || bytes.length < NONCE_BYTES + TAG_BYTES) {
        throw new SecretBoxError('not a sealed secret of a known format');
      }
      const decipher = createDecipheriv(ALGORITHM, keyBytes, bytes.subarray(0, NONCE_BYTES), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(bytes.subarray(NONCE_BYTES, NONCE_BYTES + TAG_BYTES));
      try {
        return Buffer.concat([
          decipher.update(bytes.subarray(NONCE_BYTES + TAG_BYTES)),
          decipher.final(),
        ]).toString('utf8');
      } catch (error) {
        throw new SecretBoxError(
          'the sealed secret does not open: another WEBHOOK_SECRETS_KEY sealed it, or it was altered or moved to another endpoint',
          { cause: error },
        );
      }
    },
  };
}

/**
 * The key's text: 32 bytes as hex (64 characters, `openssl rand -hex 32`) or base64 (43 or 44
 * characters, `openssl rand -base64 32`; the URL-safe alphabet and a missing `=` are accepted too,
 * as platforms that generate secrets write either). Anything else is refused: a shorter or
 * mistyped key must never quietly become a weaker one.
 */
export function parseSecretsKey(text: string): { key: Buffer } | { problem: string } {
  const value = text.trim();
  const expected = `expected ${SECRETS_KEY_BYTES} random bytes as base64 (openssl rand -base64 32) or hex (openssl rand -hex 32)`;
  if (/^[0-9a-f]+$/i.test(value) && value.length === SECRETS_KEY_BYTES * 2) {
    return { key: Buffer.from(value, 'hex') };
  }
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) return { problem: expected };
  const decoded = Buffer.from(value.replace(/=+$/, ''), 'base64url');
  // the same bytes written back must give the same text: no ignored or stray bits
  if (
    decoded.toString('base64url') !==
    value.replace(/=+$/, '').replaceAll('+', '-').replaceAll('/', '_')
  ) {
    return { problem: expected };
  }
  if (decoded.length !== SECRETS_KEY_BYTES) {
    return { problem: `${expected}; this one decodes to ${decoded.length} bytes` };
  }
  return { key: decoded };
}

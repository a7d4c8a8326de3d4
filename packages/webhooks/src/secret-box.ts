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
 *
 * Changing the key: the box seals with its key and opens with it or any previous key
 * (WEBHOOK_SECRETS_PREVIOUS_KEYS), and `resealed` rewrites a value a previous key sealed, so the
 * previous keys can be dropped once every row is resealed (docs/operations.md).
 */
export interface SecretBox {
  seal(plaintext: string, context: string): string;
  /** Throws SecretBoxError; the message never contains the value. */
  open(sealed: string, context: string): string;
  /**
   * The value sealed under the current key when a previous key sealed it; undefined when the
   * current key already did. Throws SecretBoxError as `open` does.
   */
  resealed(sealed: string, context: string): string | undefined;
}

function checkedKey(key: Uint8Array): Buffer {
  if (key.length !== SECRETS_KEY_BYTES) {
    throw new RangeError(`the secrets key is ${SECRETS_KEY_BYTES} bytes, not ${key.length}`);
  }
  return Buffer.from(key);
}

function sealWith(key: Buffer, plaintext: string, context: string): string {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const sealed = Buffer.concat([nonce, cipher.getAuthTag(), ciphertext]);
  return `${VERSION}.${sealed.toString('base64')}`;
}

function decode(sealed: string): Buffer {
  const [version, encoded, ...rest] = sealed.split('.');
  const bytes = Buffer.from(encoded ?? '', 'base64');
  if (version !== VERSION || rest.length > 0 || bytes.length < NONCE_BYTES + TAG_BYTES) {
    throw new SecretBoxError('not a sealed secret of a known format');
  }
  return bytes;
}

/** The plaintext, or undefined when `key` did not seal these bytes for `context`. */
function openWith(key: Buffer, bytes: Buffer, context: string): string | undefined {
  const decipher = createDecipheriv(ALGORITHM, key, bytes.subarray(0, NONCE_BYTES), {
    authTagLength: TAG_BYTES,
  });
  decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(bytes.subarray(NONCE_BYTES, NONCE_BYTES + TAG_BYTES));
  try {
    return Buffer.concat([
      decipher.update(bytes.subarray(NONCE_BYTES + TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    // GCM's tag check failed: another key, another context, or altered bytes; the caller tries
    // the next key and reports when none opens it
    return undefined;
  }
}

export function createSecretBox(
  key: Uint8Array,
  previousKeys: readonly Uint8Array[] = [],
): SecretBox {
  const current = checkedKey(key);
  const previous = previousKeys.map(checkedKey);
  /** The plaintext and whether the current key sealed it. */
  const opened = (sealed: string, context: string) => {
    const bytes = decode(sealed);
    const plaintext = openWith(current, bytes, context);
    if (plaintext !== undefined) return { plaintext, current: true };
    for (const each of previous) {
      const older = openWith(each, bytes, context);
      if (older !== undefined) return { plaintext: older, current: false };
    }
    throw new SecretBoxError(
      `the sealed secret does not open: a key other than WEBHOOK_SECRETS_KEY${previous.length > 0 ? ' and the WEBHOOK_SECRETS_PREVIOUS_KEYS' : ''} sealed it, or it was altered or moved to another endpoint`,
    );
  };
  return {
    seal: (plaintext, context) => sealWith(current, plaintext, context),
    open: (sealed, context) => opened(sealed, context).plaintext,
    resealed(sealed, context) {
      const { plaintext, current: byCurrent } = opened(sealed, context);
      return byCurrent ? undefined : sealWith(current, plaintext, context);
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

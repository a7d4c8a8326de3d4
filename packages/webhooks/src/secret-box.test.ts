import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSecretBox, parseSecretsKey, SecretBoxError } from './secret-box.ts';

const key = randomBytes(32);
const box = createSecretBox(key);
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const endpoint = '6f1c1a52-3c47-4d7e-9a0e-0d6d1d1b2f10';

function boxError(run: () => unknown): SecretBoxError {
  try {
    run();
  } catch (error) {
    if (error instanceof SecretBoxError) return error;
    throw error;
  }
  throw new Error('expected a SecretBoxError');
}

describe('the secret box (AES-256-GCM)', () => {
  it('opens what it sealed, and never seals the same value to the same text twice', () => {
    const sealed = box.seal(secret, endpoint);
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9+/]+=*$/);
    expect(sealed).not.toContain(secret.slice(6, 20));
    expect(box.open(sealed, endpoint)).toBe(secret);
    expect(box.seal(secret, endpoint)).not.toBe(sealed);
  });

  it('refuses a value sealed under another key, without echoing anything', () => {
    const other = createSecretBox(randomBytes(32)).seal(secret, endpoint);
    const error = boxError(() => box.open(other, endpoint));
    expect(error.message).toContain('WEBHOOK_SECRETS_KEY');
    expect(error.message).not.toContain(secret);
  });

  it('refuses a value moved to another endpoint (the endpoint id is authenticated)', () => {
    const sealed = box.seal(secret, endpoint);
    expect(() => box.open(sealed, 'another-endpoint')).toThrow(SecretBoxError);
  });

  it('refuses an altered value', () => {
    const sealed = box.seal(secret, endpoint);
    const bytes = Buffer.from(sealed.slice(3), 'base64');
    bytes[bytes.length - 1] = (bytes.at(-1) ?? 0) ^ 1;
    expect(() => box.open(`v1.${bytes.toString('base64')}`, endpoint)).toThrow(SecretBoxError);
    expect(() => box.open('v2.AAAA', endpoint)).toThrow('not a sealed secret');
    expect(() => box.open(secret, endpoint)).toThrow('not a sealed secret');
  });

  it('takes only 32-byte keys, previous ones included', () => {
    expect(() => createSecretBox(randomBytes(16))).toThrow('32 bytes, not 16');
    expect(() => createSecretBox(key, [randomBytes(31)])).toThrow('32 bytes, not 31');
  });
});

describe('changing the key (WEBHOOK_SECRETS_PREVIOUS_KEYS)', () => {
  const oldKey = randomBytes(32);
  const olderKey = randomBytes(32);
  const rotated = createSecretBox(key, [oldKey, olderKey]);

  it('opens what the current key and every previous key sealed, and seals with the current one', () => {
    const byOld = createSecretBox(oldKey).seal(secret, endpoint);
    const byOlder = createSecretBox(olderKey).seal(secret, endpoint);
    expect(rotated.open(byOld, endpoint)).toBe(secret);
    expect(rotated.open(byOlder, endpoint)).toBe(secret);
    // what it seals opens with the current key alone
    expect(box.open(rotated.seal(secret, endpoint), endpoint)).toBe(secret);
  });

  it('reseals under the current key what a previous key sealed, and leaves the current key’s as it is', () => {
    const byOld = createSecretBox(oldKey).seal(secret, endpoint);
    const resealed = rotated.resealed(byOld, endpoint);
    expect(resealed).toBeDefined();
    expect(box.open(resealed ?? '', endpoint)).toBe(secret);
    expect(() => createSecretBox(oldKey).open(resealed ?? '', endpoint)).toThrow(SecretBoxError);
    expect(rotated.resealed(rotated.seal(secret, endpoint), endpoint)).toBeUndefined();
  });

  it('still refuses a value no key of its sealed, or moved to another endpoint, naming both settings', () => {
    const stranger = createSecretBox(randomBytes(32)).seal(secret, endpoint);
    const error = boxError(() => rotated.resealed(stranger, endpoint));
    expect(error.message).toContain('WEBHOOK_SECRETS_KEY and the WEBHOOK_SECRETS_PREVIOUS_KEYS');
    const byOld = createSecretBox(oldKey).seal(secret, endpoint);
    expect(() => rotated.open(byOld, 'another-endpoint')).toThrow(SecretBoxError);
  });
});

describe('the secrets key text', () => {
  it.each([
    ['base64', key.toString('base64')],
    ['base64 without padding', key.toString('base64').replace(/=+$/, '')],
    ['URL-safe base64', key.toString('base64url')],
    ['hex', key.toString('hex')],
    ['upper-case hex', key.toString('hex').toUpperCase()],
  ])('reads 32 bytes written as %s', (_case, text) => {
    expect(parseSecretsKey(text)).toEqual({ key });
  });

  it.each([
    ['16 bytes of base64', randomBytes(16).toString('base64'), 'decodes to 16 bytes'],
    ['31 bytes of hex', randomBytes(31).toString('hex'), 'expected 32'],
    ['base64 with stray trailing bits', `${key.toString('base64').slice(0, 42)}V=`, 'expected 32'],
    ['a passphrase', 'correct horse battery staple', 'expected 32'],
    ['nothing', '', 'expected 32'],
  ])('refuses %s, saying what it expects', (_case, text, reason) => {
    const parsed = parseSecretsKey(text);
    expect(parsed).toEqual({ problem: expect.stringContaining(reason) });
    if ('problem' in parsed && text.length > 8) expect(parsed.problem).not.toContain(text);
  });
});

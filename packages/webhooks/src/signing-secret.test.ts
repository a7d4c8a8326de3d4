import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { signWebhook } from './signature.ts';
import { generateSigningSecret, signingKey, WebhookSigningError } from './signing-secret.ts';

const bytes = (count: number) => Buffer.alloc(count, 0xa5);
const secretOf = (key: Buffer) => `whsec_${key.toString('base64')}`;

function signingError(secret: string): WebhookSigningError {
  try {
    signingKey(secret);
  } catch (error) {
    if (error instanceof WebhookSigningError) return error;
    throw error;
  }
  throw new Error('expected a WebhookSigningError');
}

describe('signing secrets (whsec_ + base64 of 24 to 64 bytes)', () => {
  it('decodes to the key bytes, the key the official library derives from the same secret', () => {
    const key = bytes(32);
    expect(signingKey(secretOf(key))).toEqual(key);
    const official = new Webhook(secretOf(key)).sign('msg_1', new Date(0), '{}');
    expect(signWebhook({ id: 'msg_1', timestamp: 0, body: '{}', secret: secretOf(key) })).toBe(
      official,
    );
  });

  it.each([24, 32, 64])('accepts a %i-byte key', (size) => {
    expect(signingKey(secretOf(bytes(size)))).toHaveLength(size);
  });

  it.each([
    ['a 23-byte key', secretOf(bytes(23)), 'decodes to 23'],
    ['a 65-byte key', secretOf(bytes(65)), 'decodes to 65'],
    [
      'a plain string (the format before whsec_)',
      'a-signing-secret-of-at-least-32-chars',
      'starts with whsec_',
    ],
    // 64 hex characters are also valid base64: without the prefix, an old `openssl rand -hex 32`
    // secret would silently become a different key
    ['base64 without the prefix', bytes(32).toString('hex'), 'starts with whsec_'],
    ['URL-safe base64', `whsec_${Buffer.alloc(33, 0xff).toString('base64url')}`, 'standard base64'],
    ['base64 without its padding', secretOf(bytes(32)).replace(/=+$/, ''), 'standard base64'],
    // same bytes as secretOf(bytes(32)), which ends in U=, with non-zero trailing bits
    ['non-canonical trailing bits', `${secretOf(bytes(32)).slice(0, -2)}V=`, 'standard base64'],
    [
      'a space inside',
      `${secretOf(bytes(32)).slice(0, 20)} ${secretOf(bytes(32)).slice(20)}`,
      'standard base64',
    ],
    ['the prefix alone', 'whsec_', 'standard base64'],
    ['an empty string', '', 'starts with whsec_'],
  ])('rejects %s without echoing it', (_case, secret, reason) => {
    const error = signingError(secret);
    expect(error.message).toContain(reason);
    const body = secret.replace(/^whsec_/, '');
    if (body.length > 0) expect(error.message).not.toContain(body.slice(0, 12));
  });

  it('generates 32 random bytes that the official library accepts', () => {
    const secret = generateSigningSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(signingKey(secret)).toHaveLength(32);
    expect(() => new Webhook(secret)).not.toThrow();
    expect(generateSigningSecret()).not.toBe(secret);
  });

  describe('upgrading from a plain secret (before the whsec_ format)', () => {
    // What the signature code did before: the raw string's UTF-8 bytes were the HMAC key.
    const old = 'dev-webhook-signing-secret-not-for-production';
    const converted = `whsec_${Buffer.from(old).toString('base64')}`;
    const content = { id: 'job-1', timestamp: 1_767_225_600, body: '{"order":42}' };
    const before = `v1,${createHmac('sha256', old)
      .update(`${content.id}.${content.timestamp}.${content.body}`)
      .digest('base64')}`;

    it('keeps the HMAC key once converted to whsec_ + base64(old secret)', () => {
      expect(signingKey(converted)).toEqual(Buffer.from(old));
      expect(signWebhook({ ...content, secret: converted })).toBe(before);
    });

    it('so receivers verifying with the old raw key and with the official library both verify', () => {
      const headers = {
        'webhook-id': content.id,
        'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
      };
      const signed = {
        ...headers,
        'webhook-signature': signWebhook({
          ...content,
          timestamp: Number(headers['webhook-timestamp']),
          secret: converted,
        }),
      };
      expect(new Webhook(old, { format: 'raw' }).verify(content.body, signed)).toEqual({
        order: 42,
      });
      expect(new Webhook(converted).verify(content.body, signed)).toEqual({ order: 42 });
    });

    it('while the unconverted value is refused by the official library and by signingKey', () => {
      expect(() => new Webhook(old)).toThrow('Base64Coder');
      expect(() => signingKey(old)).toThrow(WebhookSigningError);
    });
  });
});

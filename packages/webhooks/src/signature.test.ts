import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook, WebhookVerificationError } from './signature.ts';

const secret = 'a-signing-secret-of-at-least-32-chars';
const now = new Date('2026-01-01T00:00:00Z');
const timestamp = Math.floor(now.getTime() / 1000);
const body = '{"order":42}';

function headersFor(overrides: Record<string, string> = {}) {
  return {
    'webhook-id': 'job-1',
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signWebhook({ id: 'job-1', timestamp, body, secret }),
    ...overrides,
  };
}

describe('webhook signatures', () => {
  it('signs id, timestamp and body with HMAC-SHA256 in the v1 format', () => {
    // independently computed: printf 'job-1.1767225600.{"order":42}' | openssl dgst -sha256 -hmac "$secret" -binary | base64
    expect(signWebhook({ id: 'job-1', timestamp, body, secret })).toBe(
      'v1,yxWSuCkSl0SRw4l1VgDmhgYyfSmuHtA+k+MxwUSa+78=',
    );
  });

  it('verifies a genuine request', () => {
    expect(verifyWebhook({ headers: headersFor(), body, secret, now })).toEqual({
      id: 'job-1',
      timestamp,
    });
  });

  it.each([
    ['a changed body', { body: '{"order":43}' }, 'signature does not match'],
    [
      'another secret',
      { secret: 'another-secret-of-at-least-32-chars' },
      'signature does not match',
    ],
    ['an old timestamp', { now: new Date(now.getTime() + 301_000) }, 'outside the tolerance'],
  ])('rejects %s', (_case, change, message) => {
    expect(() => verifyWebhook({ headers: headersFor(), body, secret, now, ...change })).toThrow(
      message,
    );
  });

  it('rejects missing and malformed headers', () => {
    expect(() =>
      verifyWebhook({ headers: headersFor({ 'webhook-signature': '' }), body, secret, now }),
    ).toThrow(WebhookVerificationError);
    expect(() =>
      verifyWebhook({ headers: headersFor({ 'webhook-timestamp': 'soon' }), body, secret, now }),
    ).toThrow('malformed webhook-timestamp');
  });

  it('accepts any of several signatures during a secret rotation', () => {
    const old = signWebhook({
      id: 'job-1',
      timestamp,
      body,
      secret: 'old-secret-old-secret-old-secret-xx',
    });
    const headers = headersFor({
      'webhook-signature': `${old} ${headersFor()['webhook-signature']}`,
    });
    expect(verifyWebhook({ headers, body, secret, now }).id).toBe('job-1');
  });
});

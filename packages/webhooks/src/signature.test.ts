import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { signWebhook, verifyWebhook, WebhookVerificationError } from './signature.ts';
import { generateSigningSecret, WebhookSigningError } from './signing-secret.ts';

const secret = generateSigningSecret();
const body = '{"order":42,"note":"naïve café ✓"}';
const id = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';

const nowSeconds = () => Math.floor(Date.now() / 1000);

function headersFor(signature: string, timestamp = nowSeconds(), messageId = id) {
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signature,
  };
}

/** The official library's verdict, as a receiver using it would get it. */
function officialAccepts(key: string, payload: string, headers: Record<string, string>): boolean {
  try {
    new Webhook(key).verify(payload, headers);
    return true;
  } catch (error) {
    if ((error as Error).name === 'WebhookVerificationError') return false;
    throw error;
  }
}

function ownAccepts(key: string, payload: string, headers: Record<string, string>): boolean {
  try {
    verifyWebhook({ headers, body: payload, secret: key });
    return true;
  } catch (error) {
    if (error instanceof WebhookVerificationError) return false;
    throw error;
  }
}

describe('signWebhook', () => {
  it("matches the official libraries' published test vector", () => {
    expect(
      signWebhook({
        id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
        timestamp: 1_614_265_330,
        body: '{"test": 2432232314}',
        secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      }),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('signs the same bytes from a string or a Buffer body', () => {
    const timestamp = nowSeconds();
    expect(signWebhook({ id, timestamp, body: Buffer.from(body), secret })).toBe(
      signWebhook({ id, timestamp, body, secret }),
    );
  });

  it('emits one space-separated v1 signature per secret, in order', () => {
    const other = generateSigningSecret();
    const timestamp = nowSeconds();
    const both = signWebhook({ id, timestamp, body, secret: [secret, other] });
    expect(both).toMatch(/^v1,[A-Za-z0-9+/]{43}= v1,[A-Za-z0-9+/]{43}=$/);
    expect(both).toBe(
      `${signWebhook({ id, timestamp, body, secret })} ${signWebhook({ id, timestamp, body, secret: other })}`,
    );
  });

  it.each([
    ['an id with a dot (it delimits the signed content)', { id: 'job.1' }],
    ['an empty id', { id: '' }],
    ['an id with a space', { id: 'job 1' }],
    ['a timestamp in milliseconds with a fraction', { timestamp: 1_767_225_600.5 }],
    ['a negative timestamp', { timestamp: -1 }],
    ['no secret', { secret: [] }],
    ['a malformed secret among several', { secret: [secret, 'not-a-whsec-secret'] }],
  ])('refuses %s', (_case, change) => {
    expect(() => signWebhook({ id, timestamp: nowSeconds(), body, secret, ...change })).toThrow(
      WebhookSigningError,
    );
  });
});

describe('verifyWebhook agrees with the official standardwebhooks library', () => {
  // One clock reading per case: a case signs, then builds its headers, then both libraries check
  // the timestamp against the time; a second boundary crossed in between would change the result.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const other = generateSigningSecret();
  const t = nowSeconds;
  const sign = (options: { timestamp?: number; key?: string | string[]; payload?: string } = {}) =>
    signWebhook({
      id,
      timestamp: options.timestamp ?? t(),
      body: options.payload ?? body,
      secret: options.key ?? secret,
    });

  // [case, secret the receiver holds, body it received, headers it received, genuine?]
  const cases: [string, string, string, () => Record<string, string>, boolean][] = [
    ['a genuine delivery', secret, body, () => headersFor(sign()), true],
    ['the secret without its whsec_ prefix', secret.slice(6), body, () => headersFor(sign()), true],
    [
      'header names in another case',
      secret,
      body,
      () => {
        const h = headersFor(sign());
        return {
          'Webhook-Id': h['webhook-id'],
          'WEBHOOK-TIMESTAMP': h['webhook-timestamp'],
          'Webhook-Signature': h['webhook-signature'],
        };
      },
      true,
    ],
    [
      'a rotation, receiver on the old secret',
      secret,
      body,
      () => headersFor(sign({ key: [other, secret] })),
      true,
    ],
    [
      'a rotation, receiver on the new secret',
      other,
      body,
      () => headersFor(sign({ key: [other, secret] })),
      true,
    ],
    [
      'a rotation, receiver on neither',
      generateSigningSecret(),
      body,
      () => headersFor(sign({ key: [other, secret] })),
      false,
    ],
    [
      'a signature of another scheme next to v1',
      secret,
      body,
      () => headersFor(`v1a,${'A'.repeat(86)}== ${sign()}`),
      true,
    ],
    [
      'only a signature of another scheme',
      secret,
      body,
      () => headersFor(`v2,${sign().slice(3)}`),
      false,
    ],
    ['a tampered body', secret, body.replace('42', '43'), () => headersFor(sign()), false],
    [
      'a body re-serialised by the receiver',
      secret,
      JSON.stringify(JSON.parse(body), null, 1),
      () => headersFor(sign()),
      false,
    ],
    ['another secret', other, body, () => headersFor(sign()), false],
    ['a tampered id', secret, body, () => headersFor(sign(), t(), 'msg_other'), false],
    [
      'a replay with a fresh timestamp',
      secret,
      body,
      () => headersFor(sign({ timestamp: t() - 60 }), t()),
      false,
    ],
    [
      'a timestamp 4 minutes old',
      secret,
      body,
      () => headersFor(sign({ timestamp: t() - 240 }), t() - 240),
      true,
    ],
    [
      'a timestamp 10 minutes old',
      secret,
      body,
      () => headersFor(sign({ timestamp: t() - 600 }), t() - 600),
      false,
    ],
    [
      'a timestamp 10 minutes ahead',
      secret,
      body,
      () => headersFor(sign({ timestamp: t() + 600 }), t() + 600),
      false,
    ],
    ['a truncated signature', secret, body, () => headersFor(sign().slice(0, -4)), false],
    ['an empty signature header', secret, body, () => headersFor(''), false],
    [
      'a missing webhook-id',
      secret,
      body,
      () => {
        const { 'webhook-id': _, ...rest } = headersFor(sign());
        return rest;
      },
      false,
    ],
  ];

  it.each(cases)('%s', (_case, key, received, headers, genuine) => {
    const h = headers();
    expect({
      official: officialAccepts(key, received, h),
      own: ownAccepts(key, received, h),
    }).toEqual({
      official: genuine,
      own: genuine,
    });
  });

  it('verifies what the official library signs, including two keys during a rotation', () => {
    const timestamp = t();
    const official = [secret, other].map((key) =>
      new Webhook(key).sign(id, new Date(timestamp * 1000), body),
    );
    expect(official.join(' ')).toBe(sign({ timestamp, key: [secret, other] }));
    for (const key of [secret, other]) {
      expect(
        verifyWebhook({ headers: headersFor(official.join(' '), timestamp), body, secret: key }),
      ).toEqual({
        id,
        timestamp,
      });
    }
    expect(
      verifyWebhook({
        headers: headersFor(official[1] ?? '', timestamp),
        body: Buffer.from(body),
        secret: other,
      }).id,
    ).toBe(id);
  });

  it('rejects a timestamp that is not plain digits, which the JavaScript library reads with parseInt', () => {
    const timestamp = t();
    const headers = headersFor(sign({ timestamp }), timestamp);
    headers['webhook-timestamp'] = `${timestamp}abc`;
    expect(officialAccepts(secret, body, headers)).toBe(true);
    expect(() => verifyWebhook({ headers, body, secret })).toThrow('malformed webhook-timestamp');
  });

  it('takes a tolerance and a clock', () => {
    const timestamp = 1_767_225_600;
    const headers = headersFor(sign({ timestamp }), timestamp);
    const now = new Date((timestamp + 30) * 1000);
    expect(verifyWebhook({ headers, body, secret, now }).timestamp).toBe(timestamp);
    expect(() => verifyWebhook({ headers, body, secret, now, toleranceSeconds: 10 })).toThrow(
      'webhook-timestamp is outside the tolerance',
    );
  });

  it('reports a malformed receiver secret as a misconfiguration, not as a bad request', () => {
    const headers = headersFor(sign());
    expect(() =>
      verifyWebhook({ headers, body, secret: 'a-plain-secret-of-enough-length' }),
    ).toThrow(WebhookSigningError);
  });
});

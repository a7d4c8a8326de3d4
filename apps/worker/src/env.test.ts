import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { ConfigError, loadConfig } from '@repo/config';
import { describe, expect, it } from 'vitest';
import { webhookEnv, workerEnv } from './env.ts';

const whsec = (key: Buffer) => `whsec_${key.toString('base64')}`;

function signingSecretProblem(value: string): string {
  try {
    loadConfig(webhookEnv, { NODE_ENV: 'development', WEBHOOK_SIGNING_SECRET: value });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const [problem, ...others] = error.problems;
    expect(others).toEqual([]);
    expect(problem?.variable).toBe('WEBHOOK_SIGNING_SECRET');
    return problem?.message ?? '';
  }
  throw new Error('expected a ConfigError');
}

describe('WEBHOOK_SIGNING_SECRET', () => {
  it('takes whsec_ + the base64 of random bytes and keeps it as a redacted secret', () => {
    const value = whsec(randomBytes(32));
    const config = loadConfig(webhookEnv, {
      NODE_ENV: 'development',
      WEBHOOK_SIGNING_SECRET: ` ${value}\n`,
    });
    expect(config.WEBHOOK_SIGNING_SECRET?.reveal()).toBe(value);
    for (const text of [
      JSON.stringify(config),
      inspect(config),
      `${config.WEBHOOK_SIGNING_SECRET}`,
    ]) {
      expect(text).not.toContain(value.slice(6));
    }
  });

  it.each([24, 64])('takes a %i-byte key', (size) => {
    const value = whsec(randomBytes(size));
    expect(
      loadConfig(webhookEnv, {
        NODE_ENV: 'development',
        WEBHOOK_SIGNING_SECRET: value,
      }).WEBHOOK_SIGNING_SECRET?.reveal(),
    ).toBe(value);
  });

  it.each([
    ['a plain secret of the earlier format', 'dev-webhook-signing-secret-not-for-production'],
    // 64 hex characters are valid base64 too, so the prefix is what tells the formats apart
    ['an `openssl rand -hex 32` secret', randomBytes(32).toString('hex')],
    ['base64 without the prefix', randomBytes(32).toString('base64')],
  ])('refuses %s, saying how to generate one and how to convert an old one', (_case, value) => {
    const message = signingSecretProblem(value);
    expect(message).toBe(
      'expected whsec_ followed by the base64 of 24 to 64 random bytes (the Standard Webhooks secret format); ' +
        'generate one with: echo "whsec_$(openssl rand -base64 32)". ' +
        'A plain secret from an earlier version keeps its key (receivers keep verifying) once converted: ' +
        'echo "whsec_$(printf %s "$OLD_SECRET" | openssl base64 -A)"',
    );
    expect(message).not.toContain(value);
  });

  it('accepts the documented conversion of an old secret, whose key is then the old bytes', () => {
    const old = 'dev-webhook-signing-secret-not-for-production';
    // what `printf %s "$OLD_SECRET" | openssl base64 -A` prints
    const converted = `whsec_${Buffer.from(old).toString('base64')}`;
    // development: in production this particular old secret is refused as a published one
    const config = loadConfig(webhookEnv, {
      NODE_ENV: 'development',
      WEBHOOK_SIGNING_SECRET: converted,
    });
    const key = Buffer.from(config.WEBHOOK_SIGNING_SECRET?.reveal().slice(6) ?? '', 'base64');
    expect(key.toString()).toBe(old);
  });

  it.each([
    ['URL-safe base64', `whsec_${Buffer.alloc(33, 0xff).toString('base64url')}`],
    ['base64 without its padding', whsec(Buffer.alloc(32, 1)).replace(/=+$/, '')],
    ['the prefix alone', 'whsec_'],
    ['a space inside', `whsec_AAAA ${Buffer.alloc(30, 7).toString('base64')}`],
  ])('refuses %s after the prefix', (_case, value) => {
    const message = signingSecretProblem(value);
    expect(message).toBe(
      'expected standard base64 after whsec_ (A-Z a-z 0-9 + /, = padding); generate one with: echo "whsec_$(openssl rand -base64 32)"',
    );
    if (value.length > 10) expect(message).not.toContain(value.slice(6, 16));
  });

  it.each([16, 23, 65])('refuses a %i-byte key', (size) => {
    expect(signingSecretProblem(whsec(randomBytes(size)))).toBe(
      `expected whsec_ followed by the base64 of 24 to 64 random bytes (the Standard Webhooks secret format), not ${size} bytes; generate one with: echo "whsec_$(openssl rand -base64 32)"`,
    );
  });

  it('is required only while deliveries to raw URLs are allowed, and the error says how to do without', () => {
    const env = {
      DATABASE_URL: 'postgresql://unused@127.0.0.1/unused',
      REDIS_URL: 'redis://127.0.0.1:6379',
      WEBHOOK_SECRETS_KEY: randomBytes(32).toString('base64'),
    };
    const problems = (values: Record<string, string>) => {
      try {
        loadConfig(workerEnv, { ...env, ...values });
        return [];
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        return error.problems.map((p) => `${p.variable}: ${p.message}`);
      }
    };
    expect(problems({ NODE_ENV: 'development' })).toEqual([
      expect.stringMatching(
        /^WEBHOOK_SIGNING_SECRET: is required while deliveries to raw URLs are allowed .*WEBHOOK_ALLOW_RAW_URLS=false$/,
      ),
    ]);
    expect(problems({ NODE_ENV: 'development', WEBHOOK_ALLOW_RAW_URLS: 'false' })).toEqual([]);
    // production allows only endpoints unless told otherwise
    expect(problems({ NODE_ENV: 'production' })).toEqual([]);
    expect(problems({ NODE_ENV: 'production', WEBHOOK_ALLOW_RAW_URLS: 'true' })).toEqual([
      expect.stringMatching(/^WEBHOOK_SIGNING_SECRET: is required while/),
    ]);
  });
});

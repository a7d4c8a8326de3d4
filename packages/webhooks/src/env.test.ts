import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig } from '@repo/config';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { allowsRawUrls, secretBoxFor, webhookEndpointsEnv } from './env.ts';
import { createSecretBox } from './secret-box.ts';

const env = z.object({ NODE_ENV: z.string().optional(), ...webhookEndpointsEnv().shape });

function problems(values: Record<string, string>): string[] {
  try {
    loadConfig(env, values);
  } catch (error) {
    if (error instanceof ConfigError)
      return error.problems.map((p) => `${p.variable}: ${p.message}`);
    throw error;
  }
  return [];
}

describe('the webhook endpoints environment', () => {
  it('decodes WEBHOOK_SECRETS_KEY to its 32 bytes, and keeps it secret', () => {
    const key = randomBytes(32);
    const config = loadConfig(env, { NODE_ENV: 'test', WEBHOOK_SECRETS_KEY: key.toString('hex') });
    expect(config.WEBHOOK_SECRETS_KEY?.reveal()).toEqual(key);
    expect(JSON.stringify(config)).not.toContain(key.toString('hex'));
    expect(JSON.stringify(config)).not.toContain(key.toString('base64'));
  });

  it('names the variable and the format when the key is not 32 bytes', () => {
    expect(
      problems({ NODE_ENV: 'test', WEBHOOK_SECRETS_KEY: randomBytes(24).toString('base64') }),
    ).toEqual([expect.stringMatching(/^WEBHOOK_SECRETS_KEY: expected 32 random bytes .*24 bytes/)]);
  });

  it('requires the key in production, and refuses a published-looking one', () => {
    expect(problems({ NODE_ENV: 'production' })).toEqual([
      'WEBHOOK_SECRETS_KEY: is required when NODE_ENV=production',
    ]);
    const placeholder = Buffer.from('change-me-change-me-change-me-00').toString('base64');
    expect(problems({ NODE_ENV: 'production', WEBHOOK_SECRETS_KEY: placeholder })).toEqual([]);
    expect(problems({ NODE_ENV: 'production', WEBHOOK_SECRETS_KEY: 'change-me' })).toEqual(
      expect.arrayContaining([expect.stringContaining('WEBHOOK_SECRETS_KEY')]),
    );
  });

  it('reads WEBHOOK_SECRETS_PREVIOUS_KEYS as a list of keys the box opens with, naming a bad one by position', () => {
    const [current, previous, older] = [randomBytes(32), randomBytes(32), randomBytes(32)];
    const config = loadConfig(env, {
      NODE_ENV: 'test',
      WEBHOOK_SECRETS_KEY: current.toString('base64'),
      WEBHOOK_SECRETS_PREVIOUS_KEYS: ` ${previous.toString('hex')}, ${older.toString('base64')} `,
    });
    expect(config.WEBHOOK_SECRETS_PREVIOUS_KEYS?.reveal()).toEqual([previous, older]);
    expect(JSON.stringify(config)).not.toContain(previous.toString('hex'));
    const sealedByOlder = createSecretBox(older).seal('whsec_x', 'endpoint');
    expect(secretBoxFor(config)?.open(sealedByOlder, 'endpoint')).toBe('whsec_x');
    expect(
      problems({
        NODE_ENV: 'test',
        WEBHOOK_SECRETS_KEY: current.toString('base64'),
        WEBHOOK_SECRETS_PREVIOUS_KEYS: `${previous.toString('hex')},not-a-key`,
      }),
    ).toEqual([
      expect.stringMatching(/^WEBHOOK_SECRETS_PREVIOUS_KEYS: key 2: expected 32 random bytes/),
    ]);
    expect(
      secretBoxFor({ WEBHOOK_SECRETS_KEY: undefined, WEBHOOK_SECRETS_PREVIOUS_KEYS: undefined }),
    ).toBeUndefined();
  });

  it('allows raw URLs by default outside production only', () => {
    expect(allowsRawUrls({ NODE_ENV: 'production' })).toBe(false);
    expect(allowsRawUrls({ NODE_ENV: undefined })).toBe(false);
    expect(allowsRawUrls({ NODE_ENV: 'development' })).toBe(true);
    expect(allowsRawUrls({ NODE_ENV: 'test' })).toBe(true);
    expect(allowsRawUrls({ NODE_ENV: 'test', WEBHOOK_ALLOW_RAW_URLS: false })).toBe(false);
    expect(allowsRawUrls({ NODE_ENV: 'production', WEBHOOK_ALLOW_RAW_URLS: true })).toBe(true);
  });
});

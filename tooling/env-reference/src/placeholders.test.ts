import { createHash, randomBytes } from 'node:crypto';
import { apiEnv } from '@repo/api/env';
import {
  ConfigError,
  loadConfig,
  PLACEHOLDER_PATTERNS,
  placeholderReason,
  publishedSecretValues,
  secretParts,
} from '@repo/config';
import { workerEnv } from '@repo/worker/env';
import { describe, expect, it } from 'vitest';

const HINT = 'NODE_ENV=production needs a secret of its own (e.g. openssl rand -hex 32)';

// What an operator generates: no pattern matches it and no file publishes it.
const own = () => randomBytes(24).toString('hex');
const whsec = (key: string | Buffer) => `whsec_${Buffer.from(key).toString('base64')}`;
const validEnv = () => ({
  DATABASE_URL: `postgresql://app:${own()}@db.internal:5432/app`,
  REDIS_URL: `rediss://default:${own()}@cache.internal:6380`,
  API_KEYS: `${own()},${own()}`,
  METRICS_TOKEN: own(),
  ADMIN_USERNAME: 'admin',
  ADMIN_PASSWORD: own(),
  WEBHOOK_SIGNING_SECRET: whsec(randomBytes(32)),
  WEBHOOK_SECRETS_KEY: randomBytes(32).toString('base64'),
});

/**
 * `value` as `variable` takes it, and what the refusal calls it: WEBHOOK_SIGNING_SECRET takes the
 * Standard Webhooks format, so a plain value goes in as the key of a `whsec_` secret.
 */
function asSecretOf(variable: string, value: string): { raw: string; subject: string } {
  if (variable !== 'WEBHOOK_SIGNING_SECRET' || value.startsWith('whsec_')) {
    return { raw: value, subject: 'is' };
  }
  const raw = whsec(value);
  // a converted secret that is itself published is refused as a whole, before its key is read
  const published = publishedSecretValues.some((p) => p.value === raw);
  return { raw, subject: published ? 'is' : 'has a key that is' };
}

const STRING_SECRETS = ['API_KEYS', 'METRICS_TOKEN', 'ADMIN_PASSWORD', 'WEBHOOK_SIGNING_SECRET'];
const URL_SECRETS: Record<string, (password: string) => string> = {
  DATABASE_URL: (password) =>
    `postgresql://app:${encodeURIComponent(password)}@db.internal:5432/app`,
  REDIS_URL: (password) => `redis://default:${encodeURIComponent(password)}@cache.internal:6379`,
};

/**
 * The problems of `variable` (a placeholder that is also too short has two) when it is set to
 * `value` in an otherwise valid environment. Checks on the way that no message holds the value.
 */
function problemsOf(nodeEnv: string, variable: string, value: string): string[] {
  const schema = variable in apiEnv.shape ? apiEnv : workerEnv;
  try {
    loadConfig(schema, { ...validEnv(), NODE_ENV: nodeEnv, [variable]: value });
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    expect(error.message).not.toContain(value);
    return error.problems.filter((p) => p.variable === variable).map((p) => p.message);
  }
}

const placeholderProblems = (nodeEnv: string, variable: string, value: string) =>
  problemsOf(nodeEnv, variable, value).filter((message) => message.includes('placeholder'));

describe('placeholder secrets', () => {
  it('accepts secrets of its own in production', () => {
    const env = { ...validEnv(), NODE_ENV: 'production' };
    expect(() => loadConfig(apiEnv, env)).not.toThrow();
    expect(() => loadConfig(workerEnv, env)).not.toThrow();
  });

  it('has values published in the repository to refuse', () => {
    expect(publishedSecretValues.length).toBeGreaterThan(0);
  });

  describe.each(publishedSecretValues)(
    'the published $value (from $source)',
    ({ value, source }) => {
      it.each(STRING_SECRETS)('is refused as %s in production, naming the file', (variable) => {
        const { raw, subject } = asSecretOf(variable, value);
        expect(problemsOf('production', variable, raw)).toContain(
          `${subject} the placeholder published in ${source}; ${HINT}`,
        );
      });

      it('is refused as one of several API keys in production', () => {
        expect(problemsOf('production', 'API_KEYS', `${own()}, ${value}`)).toEqual([
          `has an entry that is the placeholder published in ${source}; ${HINT}`,
        ]);
      });

      it.each(Object.keys(URL_SECRETS))(
        'is refused as the password of %s in production',
        (variable) => {
          const url = URL_SECRETS[variable]?.(value) ?? '';
          expect(problemsOf('production', variable, url)).toEqual([
            `has a password that is the placeholder published in ${source}; ${HINT}`,
          ]);
        },
      );

      it.each(['development', 'test'])('is accepted in %s', (nodeEnv) => {
        for (const variable of [...STRING_SECRETS, ...Object.keys(URL_SECRETS)]) {
          const raw = URL_SECRETS[variable]?.(value) ?? asSecretOf(variable, value).raw;
          expect(placeholderProblems(nodeEnv, variable, raw)).toEqual([]);
        }
      });
    },
  );

  it("refuses the schemas' documented examples", () => {
    expect(problemsOf('production', 'API_KEYS', 'key-for-service-a-0123456789')).toEqual([
      `is the documented example; ${HINT}`,
    ]);
  });

  const looksLikeAPlaceholder: [label: string, value: string][] = [
    ['change-me', 'token-change-me-0123456789abcdef0123456789'],
    ['change-me', 'CHANGEME0123456789abcdef0123456789abcdef'],
    ['change-me', 'please_change_me_0123456789abcdef0123456789'],
    ['replace-me', 'replace-me-with-a-real-key-0123456789abcdef'],
    ['example', 'example-api-key-0123456789abcdef0123456789'],
    ['sample', 'Sample-Token-0123456789abcdef0123456789'],
    ['secret', 'my-super-secret-signing-key-0123456789'],
    ['password', 'Password1234567890abcdef0123456789abcdef'],
    ['password', 'admin-passwd-0123456789abcdef0123456789'],
    ['placeholder', 'placeholder-0123456789abcdef0123456789'],
    ['dummy', 'dummy-key-0123456789abcdef0123456789abcd'],
    ['insecure', 'insecure-dev-key-0123456789abcdef01234567'],
    ['fixme', 'FIXME-0123456789abcdef0123456789abcdef'],
    ['your-', 'your-api-key-here-0123456789abcdef012345'],
    ['xxx', 'sk_live_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'],
    ['xxx', 'XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX'],
    ['one character repeated', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'],
    ['written in angle brackets', '<64 hex characters from openssl rand -hex 32>'],
  ];

  it('has an example below for every pattern', () => {
    const labels = PLACEHOLDER_PATTERNS.map((p) => ('contains' in p ? p.contains : p.is));
    expect(new Set(looksLikeAPlaceholder.map(([label]) => label))).toEqual(new Set(labels));
  });

  it.each(looksLikeAPlaceholder)(
    'refuses what looks like a placeholder (%s): %s',
    (label, value) => {
      const why = label.includes(' ') ? `it is ${label}` : `it contains "${label}"`;
      for (const variable of STRING_SECRETS) {
        const { raw, subject } = asSecretOf(variable, value);
        expect(problemsOf('production', variable, raw), variable).toEqual([
          `${subject} a placeholder (${why}); ${HINT}`,
        ]);
        for (const nodeEnv of ['development', 'test']) {
          expect(placeholderProblems(nodeEnv, variable, raw)).toEqual([]);
        }
      }
      for (const [variable, toUrl] of Object.entries(URL_SECRETS)) {
        expect(problemsOf('production', variable, toUrl(value)), variable).toEqual([
          `has a password that is a placeholder (${why}); ${HINT}`,
        ]);
      }
    },
  );

  it('checks only the password of a URL: user, host and database names are not secrets', () => {
    expect(
      problemsOf('production', 'DATABASE_URL', 'postgresql://example@secret-db:5432/password'),
    ).toEqual([]);
    expect(problemsOf('production', 'REDIS_URL', 'redis://127.0.0.1:6379')).toEqual([]);
    expect(secretParts('redis://127.0.0.1:6379')).toEqual([]);
    expect(secretParts('postgresql://app:p%40ss@db/app')).toEqual([
      { kind: 'password', text: 'p@ss' },
    ]);
  });

  it('lets x runs inside a generated value pass: only one standing apart is a placeholder', () => {
    expect(placeholderReason('k9XxXq2Lm7Vb3Nc8Zd4Rf6Ty1Hg5Jw0')).toBeUndefined();
    expect(placeholderReason('k9-xxx-q2Lm7Vb3Nc8Zd4Rf6Ty1Hg5Jw0')).toBe(
      'is a placeholder (it contains "xxx")',
    );
  });

  it('reads the key of a Standard Webhooks secret only when it is text someone typed', () => {
    expect(secretParts(whsec('hand-typed-key-0123456789abcdef'))).toEqual([
      { kind: 'value', text: whsec('hand-typed-key-0123456789abcdef') },
      { kind: 'key', text: 'hand-typed-key-0123456789abcdef' },
    ]);
    const generated = whsec(randomBytes(32));
    expect(secretParts(generated)).toEqual([{ kind: 'value', text: generated }]);
  });

  it('accepts generated secrets (hex, base64, base64url)', () => {
    for (let i = 0; i < 2_000; i++) {
      const bytes = createHash('sha256').update(`generated-${i}`).digest();
      for (const encoding of ['hex', 'base64', 'base64url'] as const) {
        const value = bytes.toString(encoding);
        expect(placeholderReason(value), value).toBeUndefined();
      }
    }
  });
});

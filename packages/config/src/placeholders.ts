import { publishedSecretValues } from './published-secret-values.ts';

/**
 * The repository files whose secret values anyone can read: the development defaults, the
 * compose template and the docs. Images carry none of them, so their values are collected into
 * published-secret-values.ts (`pnpm placeholders`, from tooling/env-reference), which ships in the
 * package; published-secret-values.test.ts fails when that file is stale.
 */
export const PUBLISHED_SECRET_SOURCES = [
  '.env.development',
  'infra/.env.example',
  'README.md',
  'apps/*/README.md',
  'packages/*/README.md',
  'docs/*.md',
] as const;

/**
 * Where a secret's secret lives in its raw value: all of it, each comma-separated entry, a URL's
 * password, or the key inside a Standard Webhooks secret (`whsec_` + base64).
 */
export interface SecretPart {
  kind: 'value' | 'entry' | 'password' | 'key';
  text: string;
}

const STANDARD_WEBHOOKS_PREFIX = 'whsec_';

/**
 * A connection URL's secret is its password: the rest (scheme, host, database) is not secret, and
 * a URL without a password hides nothing that could be a placeholder. A list (API_KEYS) is checked
 * entry by entry.
 */
export function secretParts(raw: string): SecretPart[] {
  const value = raw.trim();
  if (/^[a-z][a-z\d+.-]*:\/\//i.test(value)) {
    const password = URL.parse(value)?.password ?? '';
    return password === '' ? [] : [{ kind: 'password', text: decodeOrKeep(password) }];
  }
  if (value.startsWith(STANDARD_WEBHOOKS_PREFIX)) {
    // A generated key is random bytes; one that decodes to readable text was typed by hand (or
    // converted from an old plain secret), so the text is checked like any other secret.
    const key = Buffer.from(value.slice(STANDARD_WEBHOOKS_PREFIX.length), 'base64').toString(
      'latin1',
    );
    return /^[\x20-\x7e]+$/.test(key)
      ? [
          { kind: 'value', text: value },
          { kind: 'key', text: key },
        ]
      : [{ kind: 'value', text: value }];
  }
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  return entries.length > 1
    ? entries.map((text) => ({ kind: 'entry', text }))
    : [{ kind: 'value', text: value }];
}

function decodeOrKeep(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * What obvious placeholders contain (case-insensitive), or what they are. Words a generated secret
 * (hex, base64) practically never contains by chance; shorter ones such as "test" or runs of
 * digits are left out because real secrets do contain them, and "xxx" counts only standing apart
 * (key-xxxx, not aXXXb).
 */
export const PLACEHOLDER_PATTERNS: readonly (
  | { pattern: RegExp; contains: string }
  | { pattern: RegExp; is: string }
)[] = [
  { pattern: /change[-_. ]?me/i, contains: 'change-me' },
  { pattern: /replace[-_. ]?me/i, contains: 'replace-me' },
  { pattern: /example/i, contains: 'example' },
  { pattern: /sample/i, contains: 'sample' },
  { pattern: /secret/i, contains: 'secret' },
  { pattern: /passw(?:or)?d/i, contains: 'password' },
  { pattern: /placeholder/i, contains: 'placeholder' },
  { pattern: /dummy/i, contains: 'dummy' },
  { pattern: /insecure/i, contains: 'insecure' },
  { pattern: /fixme/i, contains: 'fixme' },
  { pattern: /(?:^|[^a-z\d])your[-_ ]/i, contains: 'your-' },
  { pattern: /(?:^|[^a-z\d])x{3,}(?:$|[^a-z\d])/i, contains: 'xxx' },
  { pattern: /^(.)\1*$/s, is: 'one character repeated' },
  { pattern: /^<.*>$/s, is: 'written in angle brackets' },
];

const PUBLISHED = new Map<string, string>();
for (const { value, source } of publishedSecretValues) {
  if (!PUBLISHED.has(value)) PUBLISHED.set(value, source);
}

const SUBJECT: Record<SecretPart['kind'], string> = {
  value: 'is',
  entry: 'has an entry that is',
  password: 'has a password that is',
  key: 'has a key that is',
};

/**
 * Why the secret `raw` must not be used in production: one of its parts is a value published in
 * the repository (.env.development, infra/.env.example, the docs), one of `examples` (the schemas'
 * documented examples), or looks like a placeholder. Undefined when none applies. The reason
 * never contains the value.
 */
export function placeholderReason(
  raw: string,
  examples: readonly string[] = [],
): string | undefined {
  const exampleParts = new Set(
    examples.flatMap((example) => secretParts(example).map((p) => p.text)),
  );
  for (const part of secretParts(raw)) {
    const subject = SUBJECT[part.kind];
    const source = PUBLISHED.get(part.text);
    if (source !== undefined) return `${subject} the placeholder published in ${source}`;
    if (exampleParts.has(part.text)) return `${subject} the documented example`;
    const match = PLACEHOLDER_PATTERNS.find(({ pattern }) => pattern.test(part.text));
    if (match) {
      const why = 'contains' in match ? `it contains "${match.contains}"` : `it is ${match.is}`;
      return `${subject} a placeholder (${why})`;
    }
  }
  return undefined;
}

import { z } from 'zod';
import { redactUrl, Secret } from './secret.ts';

/** What the docs generator and the deploy-file checks know about each variable. */
export interface EnvVarMeta {
  description: string;
  /** A value that shows the format; never a real secret. */
  example?: string;
  secret?: boolean;
  /** Required when NODE_ENV=production even though development runs without it. */
  requiredInProduction?: boolean;
}

export const envRegistry = z.registry<EnvVarMeta>();

/** Attaches documentation to a variable's finished schema (after `.optional()` or `.prefault()`). */
export function describeEnv<S extends z.ZodType>(schema: S, meta: EnvVarMeta): S {
  envRegistry.add(schema, meta);
  return schema;
}

export function integer({ min, max }: { min: number; max: number }) {
  return z
    .string()
    .trim()
    .regex(/^-?\d+$/, `expected a whole number between ${min} and ${max}`)
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, `expected a whole number between ${min} and ${max}`)
        .max(max, `expected a whole number between ${min} and ${max}`),
    );
}

const TRUE_WORDS = ['true', '1', 'yes', 'on'];
const FALSE_WORDS = ['false', '0', 'no', 'off'];

/** Unlike z.coerce.boolean(), "false" and "0" mean false, and anything unrecognised is an error. */
export function boolean() {
  return z
    .string()
    .trim()
    .toLowerCase()
    .refine((value) => TRUE_WORDS.includes(value) || FALSE_WORDS.includes(value), {
      message: `expected one of ${[...TRUE_WORDS, ...FALSE_WORDS].join(', ')}`,
    })
    .transform((value) => TRUE_WORDS.includes(value));
}

const DURATION_UNITS_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** "500ms", "30s", "5m", "2h", "7d" → milliseconds. A unit is required: a bare "30" is ambiguous. */
export function duration({
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
}: {
  min?: number;
  max?: number;
} = {}) {
  const hint = 'expected a duration such as 500ms, 30s, 5m, 2h or 7d';
  return z
    .string()
    .trim()
    .regex(DURATION_PATTERN, hint)
    .transform((value) => {
      const [, amount, unit] = DURATION_PATTERN.exec(value) as RegExpExecArray;
      return Math.round(Number(amount) * DURATION_UNITS_MS[unit as keyof typeof DURATION_UNITS_MS]);
    })
    .pipe(
      z
        .number()
        .min(min, `must be at least ${formatDuration(min)}`)
        .max(max, `must be at most ${formatDuration(max)}`),
    );
}

export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** Comma-separated values; blanks around commas and empty entries are dropped. */
export function list<T extends z.ZodType<unknown, string>>(item: T) {
  return z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean),
    )
    .pipe(z.array(item).min(1, 'expected at least one comma-separated value'));
}

/** A JSON document, then `schema`: for settings that are a structure rather than one value. */
export function json<T extends z.ZodType>(schema: T) {
  return z
    .string()
    .transform((value, ctx) => {
      try {
        return JSON.parse(value) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'expected JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema);
}

/** A URL whose scheme is one of `protocols`; kept as a Secret because connection URLs carry passwords. */
export function secretUrl(protocols: readonly string[]) {
  const schemes = protocols.map((p) => `${p}://`).join(' or ');
  return z
    .string()
    .trim()
    .transform((value, ctx) => {
      const url = URL.parse(value);
      if (!url || !protocols.includes(url.protocol.replace(/:$/, ''))) {
        ctx.addIssue({ code: 'custom', message: `expected a URL starting with ${schemes}` });
        return z.NEVER;
      }
      if (url.hostname === '') {
        ctx.addIssue({ code: 'custom', message: 'the URL has no host' });
        return z.NEVER;
      }
      return new Secret(value, redactUrl(value));
    });
}

/**
 * A secret string with a minimum length. Placeholders of any length are refused in production by
 * loadConfig (placeholders.ts), which knows NODE_ENV; this schema does not.
 */
export function secretString({ minLength }: { minLength: number }) {
  return z
    .string()
    .min(minLength, `must be at least ${minLength} characters long`)
    .transform((value) => new Secret(value));
}

/** Several secrets in one variable (comma-separated), e.g. API keys during a rotation. */
export function secretList({ minLength }: { minLength: number }) {
  return list(
    z.string().min(minLength, `each value must be at least ${minLength} characters long`),
  ).transform(
    (values) => new Secret<readonly string[]>(Object.freeze(values), `[${values.length} redacted]`),
  );
}

const WHSEC = 'whsec_';
const WHSEC_KEY_BYTES = { min: 24, max: 64 };
const WHSEC_FORMAT = `${WHSEC} followed by the base64 of ${WHSEC_KEY_BYTES.min} to ${WHSEC_KEY_BYTES.max} random bytes (the Standard Webhooks secret format)`;
const WHSEC_GENERATE = 'generate one with: echo "whsec_$(openssl rand -base64 32)"';
const WHSEC_CONVERT =
  'A plain secret from an earlier version keeps its key (receivers keep verifying) once converted: echo "whsec_$(printf %s "$OLD_SECRET" | openssl base64 -A)"';

/**
 * A Standard Webhooks signing secret: whsec_ + canonical base64 of 24 to 64 bytes, kept as that
 * text. The same rule as signingKey in @repo/webhooks, which config does not depend on; the
 * worker's webhook tests hold the two together. A value without the prefix is most likely a plain
 * secret of the format before this one, whose characters were the key, so its error says how to
 * convert it without changing the key.
 */
export function standardWebhooksSecret() {
  return z
    .string()
    .trim()
    .transform((value, ctx) => {
      const problem = whsecProblem(value);
      if (problem) {
        ctx.addIssue({ code: 'custom', message: problem });
        return z.NEVER;
      }
      return new Secret(value);
    });
}

function whsecProblem(value: string): string | undefined {
  if (!value.startsWith(WHSEC))
    return `expected ${WHSEC_FORMAT}; ${WHSEC_GENERATE}. ${WHSEC_CONVERT}`;
  const encoded = value.slice(WHSEC.length);
  const key = Buffer.from(encoded, 'base64');
  if (encoded === '' || key.toString('base64') !== encoded) {
    return `expected standard base64 after ${WHSEC} (A-Z a-z 0-9 + /, = padding); ${WHSEC_GENERATE}`;
  }
  if (key.length < WHSEC_KEY_BYTES.min || key.length > WHSEC_KEY_BYTES.max) {
    return `expected ${WHSEC_FORMAT}, not ${key.length} bytes; ${WHSEC_GENERATE}`;
  }
  return undefined;
}

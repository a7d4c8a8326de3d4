import type { z } from 'zod';
import { envRegistry } from './env-values.ts';
import { placeholderReason } from './placeholders.ts';
import { runsAsProduction } from './runtime-env.ts';
import { readSecretFiles, SECRET_FILE_SUFFIX } from './secret-files.ts';

export type Env = Readonly<Record<string, string | undefined>>;

export interface ConfigProblem {
  variable: string;
  message: string;
}

/** Every missing or invalid variable at once, by name and reason; values are never included. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly ConfigProblem[];
  /** A hint about the environment as a whole, e.g. that a missing NODE_ENV means production. */
  readonly note: string | undefined;
  /** The same as `message`, on one line: for a JSON log line. */
  readonly summary: string;

  constructor(problems: readonly ConfigProblem[], service?: string, note?: string) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    const header = `Invalid environment${service ? ` for ${service}` : ''} (${count}):`;
    const lines = problems.map((p) => `${p.variable}: ${p.message}`);
    super([header, ...lines.map((line) => `  - ${line}`), ...(note ? [note] : [])].join('\n'));
    this.problems = Object.freeze([...problems]);
    this.note = note;
    this.summary = `${header} ${lines.join('; ')}${note ? `. ${note}` : ''}`;
  }
}

const UNSET_NODE_ENV_NOTE =
  'NODE_ENV is not set, which means production: no .env file is read. Set NODE_ENV=development (pnpm dev does) to use .env.development.';

/**
 * Parses `env` with an environment schema and returns a deeply frozen, typed config.
 * Empty strings count as unset, so `FOO=` in a .env file falls back to the default. A secret
 * variable may be given as `<NAME>_FILE`, the path of a file holding it. In production (NODE_ENV
 * unset or production) secrets that are published placeholders or look like one are refused.
 * Throws a ConfigError listing every problem.
 */
export function loadConfig<S extends z.ZodObject>(
  schema: S,
  env: Env,
  options: { service?: string } = {},
): Readonly<z.output<S>> {
  const shape = schema.shape;
  const input: Record<string, string | undefined> = {};
  for (const name of Object.keys(shape)) {
    const value = env[name];
    input[name] = value === undefined || value.trim() === '' ? undefined : value;
  }

  const secrets = Object.keys(shape).filter((name) => envRegistry.get(shape[name])?.secret);
  const fromFiles = readSecretFiles(secrets, input, env);
  const problems: ConfigProblem[] = [...fromFiles.problems];
  const nodeEnv = env.NODE_ENV?.trim() || undefined;
  const isProduction = runsAsProduction(nodeEnv);
  for (const [name, fieldSchema] of Object.entries(shape)) {
    if (
      isProduction &&
      input[name] === undefined &&
      envRegistry.get(fieldSchema)?.requiredInProduction
    ) {
      problems.push({ variable: name, message: 'is required when NODE_ENV=production' });
    }
  }
  if (isProduction) problems.push(...findPlaceholders(shape, secrets, input));

  const result = schema.safeParse(input);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const variable = String(issue.path[0] ?? '(environment)');
      const missing = issue.code === 'invalid_type' && input[variable] === undefined;
      if (missing && fromFiles.unusable.has(variable)) continue;
      const path = fromFiles.paths.get(variable);
      problems.push({
        variable,
        message: missing
          ? describeMissing(shape, variable)
          : `${issue.message}${path ? ` (read from ${variable}${SECRET_FILE_SUFFIX}=${path})` : ''}`,
      });
    }
  }
  if (problems.length > 0) {
    const note = nodeEnv === undefined ? UNSET_NODE_ENV_NOTE : undefined;
    throw new ConfigError(dedupe(problems), options.service, note);
  }

  return deepFreeze(result.data as z.output<S>);
}

/** Production refuses secrets anyone can read in the repository, and ones that look like placeholders. */
function findPlaceholders(
  shape: z.ZodObject['shape'],
  secrets: readonly string[],
  input: Readonly<Record<string, string | undefined>>,
): ConfigProblem[] {
  const examples = secrets.flatMap((name) => envRegistry.get(shape[name])?.example ?? []);
  return secrets.flatMap((name) => {
    const value = input[name];
    const reason = value === undefined ? undefined : placeholderReason(value, examples);
    return reason === undefined
      ? []
      : [
          {
            variable: name,
            message: `${reason}; NODE_ENV=production needs a secret of its own (e.g. openssl rand -hex 32)`,
          },
        ];
  });
}

function describeMissing(shape: z.ZodObject['shape'], variable: string): string {
  const field = shape[variable];
  const meta = field ? envRegistry.get(field) : undefined;
  const example = meta?.example && !meta.secret ? ` (e.g. ${meta.example})` : '';
  return `is required but not set${meta ? ` — ${meta.description}` : ''}${example}`;
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.variable}\0${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

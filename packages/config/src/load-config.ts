import type { z } from 'zod';
import { envRegistry } from './env-values.ts';

export type Env = Readonly<Record<string, string | undefined>>;

export interface ConfigProblem {
  variable: string;
  message: string;
}

/** Every missing or invalid variable at once, by name and reason; values are never included. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[], service?: string) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    const lines = problems.map((p) => `  - ${p.variable}: ${p.message}`);
    super(
      [`Invalid environment${service ? ` for ${service}` : ''} (${count}):`, ...lines].join('\n'),
    );
    this.problems = Object.freeze([...problems]);
  }
}

/**
 * Parses `env` with an environment schema and returns a deeply frozen, typed config.
 * Empty strings count as unset, so `FOO=` in a .env file falls back to the default.
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

  const problems: ConfigProblem[] = [];
  const isProduction = (input.NODE_ENV ?? '').trim() === 'production';
  for (const [name, fieldSchema] of Object.entries(shape)) {
    if (
      isProduction &&
      input[name] === undefined &&
      envRegistry.get(fieldSchema)?.requiredInProduction
    ) {
      problems.push({ variable: name, message: 'is required when NODE_ENV=production' });
    }
  }

  const result = schema.safeParse(input);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const variable = String(issue.path[0] ?? '(environment)');
      const missing = issue.code === 'invalid_type' && input[variable] === undefined;
      problems.push({
        variable,
        message: missing ? describeMissing(shape, variable) : issue.message,
      });
    }
  }
  if (problems.length > 0) throw new ConfigError(dedupe(problems), options.service);

  return deepFreeze(result.data as z.output<S>);
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

import type { z } from 'zod';
import { envRegistry } from './env-values.ts';
import { PLACEHOLDER_PATTERNS, PUBLISHED_SECRET_SOURCES } from './placeholders.ts';
import { SECRET_FILE_SUFFIX } from './secret-files.ts';

export interface EnvVarReference {
  name: string;
  /** "always", "production" (development runs without it) or "no" (it has a default or is optional). */
  required: 'always' | 'production' | 'no';
  default?: string;
  description: string;
  example?: string;
  secret: boolean;
  /** For a secret: the variable that may name a file holding it instead (`<NAME>_FILE`). */
  file?: string;
}

/** A service's whole environment, as its app composes it from the packages' fragments. */
export type ServiceEnv = z.ZodObject;

/** What a service's schema says about each of its variables, read from the schema itself. */
export function describeEnvVariables(env: ServiceEnv): EnvVarReference[] {
  const shape: Record<string, z.ZodType> = env.shape;
  return Object.entries(shape).map(([name, field]) => {
    const meta = envRegistry.get(field);
    const fallback = defaultOf(field);
    const required = field.safeParse(undefined).success
      ? meta?.requiredInProduction
        ? 'production'
        : 'no'
      : 'always';
    return {
      name,
      required,
      ...(fallback === undefined ? {} : { default: fallback }),
      description: meta?.description ?? '',
      ...(meta?.example === undefined ? {} : { example: meta.example }),
      secret: meta?.secret ?? false,
      ...(meta?.secret ? { file: `${name}${SECRET_FILE_SUFFIX}` } : {}),
    };
  });
}

/** The variables a deployment of a service must provide (NODE_ENV=production). */
export function requiredInProductionOf(env: ServiceEnv): string[] {
  return describeEnvVariables(env)
    .filter((v) => v.required !== 'no')
    .map((v) => v.name);
}

function defaultOf(schema: z.ZodType): string | undefined {
  const def = schema._zod.def as {
    type: string;
    defaultValue?: unknown;
    in?: z.ZodType;
    innerType?: z.ZodType;
  };
  if (def.type === 'prefault' || def.type === 'default') {
    const value = def.defaultValue;
    return typeof value === 'function' ? String(value()) : String(value);
  }
  if (def.type === 'pipe' && def.in) return defaultOf(def.in);
  return undefined;
}

/** Markdown for docs/environment.md: one table per service, in the order given. */
export function renderEnvReference(services: Readonly<Record<string, ServiceEnv>>): string {
  const sections = Object.entries(services).map(([service, env]) => {
    const rows = describeEnvVariables(env).map((v) => {
      const required = { always: 'yes', production: 'in production', no: '' }[v.required];
      const defaultCell = v.default === undefined ? '' : `\`${v.default}\``;
      const example = v.example && !v.secret ? ` Example: \`${v.example}\`.` : '';
      const secret = v.file ? ` **Secret**; or \`${v.file}\`: the path of a file holding it.` : '';
      return `| \`${v.name}\` | ${required} | ${defaultCell} | ${escapeCell(v.description)}${example}${secret} |`;
    });
    return [
      `## ${service}`,
      '',
      '| Variable | Required | Default | Description |',
      '| --- | --- | --- | --- |',
      ...rows,
    ].join('\n');
  });
  return [
    '# Environment variables',
    '',
    "<!-- Generated from each app's src/env.ts by `pnpm docs:env`. Do not edit by hand. -->",
    '',
    'Durations take a unit (`500ms`, `30s`, `5m`, `2h`, `7d`). Booleans accept `true/false`, `1/0`, `yes/no`, `on/off`.',
    'Empty values count as unset.',
    '',
    '`NODE_ENV` decides how strict the apps are. Unset, it means `production`. Only with `NODE_ENV=development` or `test` do the apps also read `.env.development` and `.env` at the repository root (`pnpm dev` sets `development`).',
    '',
    'With `NODE_ENV=production`, a **secret** is refused (the error names the variable and why, never the value) when it, an entry of its list or the password of its URL is:',
    '',
    `- a value published in the repository: a secret variable's value in ${PUBLISHED_SECRET_SOURCES.map((file) => `\`${file}\``).join(', ')}, or the bearer token of an example request there; or a documented example;`,
    `- or an obvious placeholder: ${describePlaceholderPatterns()}.`,
    '',
    'Every secret can also be given as a file: `<NAME>_FILE` is the path of a file whose content, without its trailing line break, is the value (Docker and Compose `secrets:`, Kubernetes secret volumes). Setting both `<NAME>` and `<NAME>_FILE` is an error, and so is a file that cannot be read or is empty.',
    '',
    ...sections.flatMap((s) => [s, '']),
  ].join('\n');
}

function describePlaceholderPatterns(): string {
  const words = PLACEHOLDER_PATTERNS.flatMap((p) => ('contains' in p ? [`\`${p.contains}\``] : []));
  const shapes = PLACEHOLDER_PATTERNS.flatMap((p) => ('is' in p ? [`it is ${p.is}`] : []));
  return [`it contains ${words.join(', ')} (in any case)`, ...shapes].join('; ');
}

function escapeCell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('<', '&lt;');
}

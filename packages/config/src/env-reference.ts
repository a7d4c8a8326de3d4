import type { z } from 'zod';
import { envRegistry } from './env-values.ts';
import { type ServiceName, serviceEnvs } from './services.ts';

export interface EnvVarReference {
  name: string;
  /** "always", "production" (development runs without it) or "no" (it has a default or is optional). */
  required: 'always' | 'production' | 'no';
  default?: string;
  description: string;
  example?: string;
  secret: boolean;
}

/** What a service's schema says about each of its variables, read from the schema itself. */
export function describeServiceEnv(service: ServiceName): EnvVarReference[] {
  const shape: Record<string, z.ZodType> = serviceEnvs[service].shape;
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
    };
  });
}

/** The variables a deployment of `service` must provide (NODE_ENV=production). */
export function requiredInProduction(service: ServiceName): string[] {
  return describeServiceEnv(service)
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

/** Markdown for docs/environment.md: one table per service. */
export function renderEnvReference(): string {
  const sections = (Object.keys(serviceEnvs) as ServiceName[]).map((service) => {
    const rows = describeServiceEnv(service).map((v) => {
      const required = { always: 'yes', production: 'in production', no: '' }[v.required];
      const defaultCell = v.default === undefined ? '' : `\`${v.default}\``;
      const example = v.example && !v.secret ? ` Example: \`${v.example}\`.` : '';
      const secret = v.secret ? ' **Secret.**' : '';
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
    '<!-- Generated from packages/config/src by `pnpm --filter @repo/config docs:env`. Do not edit by hand. -->',
    '',
    'Durations take a unit (`500ms`, `30s`, `5m`, `2h`, `7d`). Booleans accept `true/false`, `1/0`, `yes/no`, `on/off`.',
    'Empty values count as unset. In development (NODE_ENV other than production) the apps also read `.env.development` and `.env` at the repository root.',
    '',
    ...sections.flatMap((s) => [s, '']),
  ].join('\n');
}

function escapeCell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('<', '&lt;');
}

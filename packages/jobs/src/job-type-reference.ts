import type { z } from 'zod';
import type { JobTypeDefinition, JobTypeLimits } from './define-job-type.ts';
import { jobTypes } from './registry.ts';

/** What a client or operator needs to know about one job type, read from its definition. */
export interface JobTypeReference {
  type: string;
  description: string;
  enqueueable: boolean;
  /** Payload field names, optional ones with a trailing `?`. */
  payloadFields: string[];
  /** What the payload does with fields it does not declare. */
  unknownFields: 'refused' | 'dropped' | 'kept';
  attempts: number;
  backoffMs: number;
  /** The contract's execution limits (JOB_LIMITS may override them per deployment). */
  limits: JobTypeLimits;
}

export function describeJobType(definition: JobTypeDefinition): JobTypeReference {
  const shape: Record<string, z.ZodType> = definition.payload.shape;
  return {
    type: definition.type,
    description: definition.description,
    enqueueable: definition.enqueueable,
    payloadFields: Object.entries(shape).map(([name, field]) =>
      field.safeParse(undefined).success ? `${name}?` : name,
    ),
    unknownFields: unknownFieldsOf(definition.payload),
    attempts: definition.options.attempts,
    backoffMs: definition.options.backoffMs,
    limits: definition.limits ?? {},
  };
}

/** z.strictObject refuses undeclared fields (catchall never), z.looseObject keeps them, z.object drops them. */
function unknownFieldsOf(payload: z.ZodObject): JobTypeReference['unknownFields'] {
  const catchall = payload._zod.def.catchall?._zod.def.type;
  if (catchall === 'never') return 'refused';
  return catchall === undefined ? 'dropped' : 'kept';
}

/** Markdown for docs/job-types.md: every job type of the registry, in its order. */
export function renderJobTypeReference(): string {
  const rows = Object.values(jobTypes).map((definition) => {
    const t = describeJobType(definition);
    const fields =
      t.payloadFields.length === 0
        ? 'none: `{}`'
        : t.payloadFields.map((f) => `\`${f}\``).join(', ');
    const others = t.unknownFields === 'refused' ? '' : ` (other fields ${t.unknownFields})`;
    return `| \`${t.type}\` | ${t.enqueueable ? 'clients' : 'schedules only'} | ${fields}${others} | ${t.attempts} | ${formatBackoff(t.backoffMs)} | ${formatLimits(t.limits)} | ${escapeCell(t.description)} |`;
  });
  return [
    '# Job types',
    '',
    '<!-- Generated from packages/jobs/src/registry.ts by `pnpm --filter @repo/jobs docs:job-types`. Do not edit by hand. -->',
    '',
    'Clients enqueue a job with `POST /v1/jobs` (see [apps/api/README.md](../apps/api/README.md)); a type enqueued by "schedules only" runs on the schedules declared in `packages/jobs/src/declared-schedules.ts`, and the API answers 400 `unknown-job-type` for it.',
    'A payload is a JSON object: `?` marks an optional field, and a field the type does not list is refused (400) unless the row says otherwise.',
    'Attempts is the default number of tries (a request may set `maxAttempts`); a failed try is retried after the backoff, doubled on each further retry.',
    'Limits are how many jobs of the type run at once and how fast they start, across every worker: per `concurrencyKey` (a request may set one, e.g. a tenant id) or for the whole type; a job over a limit waits, queued, without using an attempt. `JOB_LIMITS` ([environment.md](environment.md)) overrides them.',
    '',
    '| Type | Enqueued by | Payload fields | Attempts | Backoff | Limits | Description |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

function formatLimits(limits: JobTypeLimits): string {
  const parts = [
    limits.maxConcurrent === undefined ? null : `${limits.maxConcurrent} at once`,
    limits.maxConcurrentPerKey === undefined
      ? null
      : `${limits.maxConcurrentPerKey} at once per key`,
    limits.rateLimitPerKey === undefined
      ? null
      : `${limits.rateLimitPerKey.max} starts per ${limits.rateLimitPerKey.perSeconds} s per key`,
  ].filter((part) => part !== null);
  return parts.length === 0 ? 'none' : parts.join(', ');
}

function formatBackoff(ms: number): string {
  if (ms === 0) return 'none';
  return ms % 1_000 === 0 ? `${ms / 1_000} s` : `${ms} ms`;
}

function escapeCell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('<', '&lt;').replaceAll('\n', ' ');
}

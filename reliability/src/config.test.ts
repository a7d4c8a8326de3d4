// How each app treats its configuration at start, in real processes (the variables come from
// packages/config and .env.development, not from this file). Nothing is contacted: configuration
// fails first.
// - Each variable it requires in production, removed in turn: non-zero exit naming it, none of
//   the secrets it was given printed, and every line it writes one JSON object.
// - The development placeholders of .env.development, given in production: refused by name.
// - Started without NODE_ENV: production, so .env.development is not read.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { describeServiceEnv, requiredInProduction, type ServiceName } from '@repo/env-reference';
import { type ServiceProcess, startServiceProcess } from '@repo/testing';
import { describe, expect, it } from 'vitest';
import { entries, parseEveryLine, recordOutput, repoRoot } from './lib/apps.ts';

const SERVICES: ServiceName[] = ['api', 'worker', 'beat', 'migrate'];

/** A valid value for each required variable; secrets carry a marker that must never be printed. */
function productionEnv(service: ServiceName): { env: Record<string, string>; secrets: string[] } {
  const env: Record<string, string> = { NODE_ENV: 'production' };
  const secrets: string[] = [];
  for (const variable of describeServiceEnv(service).filter((v) => v.required !== 'no')) {
    const marker = `Sekret${randomBytes(8).toString('hex')}`;
    const value = /_URL$/.test(variable.name)
      ? `${variable.name.startsWith('REDIS') ? 'redis' : 'postgresql'}://user:${marker}@127.0.0.1:9/db`
      : variable.name === 'WEBHOOK_SIGNING_SECRET'
        ? `whsec_${randomBytes(32).toString('base64')}`
        : variable.name === 'WEBHOOK_SECRETS_KEY'
          ? randomBytes(32).toString('base64')
          : `${marker}${randomBytes(16).toString('hex')}`;
    env[variable.name] = value;
    if (variable.secret) secrets.push(marker, value);
  }
  return { env, secrets };
}

type LogLine = Record<string, unknown>;

interface Started {
  child: ServiceProcess;
  stdout: () => string;
  /** The exit code, once all the output has been read. */
  closed: Promise<number | null>;
}

function start(service: ServiceName, env: Record<string, string>): Started {
  const child = startServiceProcess(entries[service], env);
  return { child, ...recordOutput(child) };
}

/** Every line the process wrote, stdout and stderr; a line that is not one JSON object fails. */
function everyLineAsJson({ child, stdout }: Started): LogLine[] {
  return [...parseEveryLine(stdout(), 'stdout'), ...parseEveryLine(child.stderr(), 'stderr')];
}

/** The problems of the one fatal line a process that failed its configuration writes. */
function configProblems(started: Started): { variable: string; message: string }[] {
  const fatal = everyLineAsJson(started).filter((line) => line.level === 'fatal');
  expect(fatal).toHaveLength(1);
  return fatal[0]?.problems as { variable: string; message: string }[];
}

const development = parseEnv(readFileSync(`${repoRoot}.env.development`, 'utf8'));

const cases = SERVICES.flatMap((service) =>
  requiredInProduction(service).map((variable) => ({ service, variable })),
);

describe('missing configuration (each app, each variable it requires in production)', () => {
  it('derives a non-empty list of required variables for every app', () => {
    for (const service of SERVICES) expect(requiredInProduction(service).length).toBeGreaterThan(0);
    expect(cases.map((c) => `${c.service}:${c.variable}`)).toEqual(
      expect.arrayContaining([
        'api:DATABASE_URL',
        'api:API_KEYS',
        'api:WEBHOOK_SECRETS_KEY',
        'worker:WEBHOOK_SECRETS_KEY',
        'beat:DATABASE_URL',
        'beat:REDIS_URL',
      ]),
    );
  });

  it.each(cases)(
    '$service without $variable exits non-zero, names it in JSON, prints no secret',
    async ({ service, variable }) => {
      const { env, secrets } = productionEnv(service);
      delete env[variable];
      // empty counts as unset: the format is production's default
      const started = start(service, { ...env, LOG_FORMAT: '' });
      const code = await started.closed;
      const output = `${started.child.stderr()}\n${started.stdout()}`;
      expect(code).not.toBe(0);
      expect(code).not.toBeNull();
      expect(configProblems(started).map((p) => p.variable)).toEqual([variable]);
      for (const secret of secrets) expect(output).not.toContain(secret);
    },
  );
});

function isUrlWithoutPassword(value: string): boolean {
  return value.includes('://') && URL.parse(value)?.password === '';
}

const placeholders = SERVICES.flatMap((service) =>
  describeServiceEnv(service)
    .filter((v) => v.secret && development[v.name] !== undefined)
    // a URL without a password holds no secret, so it is no placeholder (and must not be given
    // to an app here: with its value accepted, it would connect to the development database)
    .filter((v) => !isUrlWithoutPassword(development[v.name] ?? ''))
    .map((v) => ({ service, variable: v.name, value: development[v.name] ?? '' })),
);

describe('development placeholders in production (each app, each secret in .env.development)', () => {
  it('finds the placeholders the operations report names', () => {
    expect(placeholders.map((p) => `${p.service}:${p.variable}`)).toEqual(
      expect.arrayContaining([
        'api:API_KEYS',
        'api:ADMIN_PASSWORD',
        'worker:WEBHOOK_SIGNING_SECRET',
      ]),
    );
  });

  it.each(placeholders)(
    '$service refuses $variable from .env.development, naming it and not printing it',
    async ({ service, variable, value }) => {
      const { env } = productionEnv(service);
      const started = start(service, {
        ...env,
        ...(variable === 'ADMIN_PASSWORD' ? { ADMIN_USERNAME: 'admin' } : {}),
        [variable]: value,
      });
      expect(await started.closed).toBe(1);
      expect(configProblems(started)).toEqual([
        {
          variable,
          message: expect.stringMatching(/^is the placeholder published in \.env\.development; /),
        },
      ]);
      expect(`${started.child.stderr()}${started.stdout()}`).not.toContain(value);
    },
  );
});

// startServiceProcess sets NODE_ENV=test unless told otherwise; spawn leaves out a variable whose
// value is undefined, which is how these apps start with no NODE_ENV at all.
const NO_NODE_ENV = { NODE_ENV: undefined as unknown as string };

describe('an app started without NODE_ENV runs as production and does not read .env.development', () => {
  it.each(SERVICES)('%s', async (service) => {
    // what .env.development would have given it
    const fromDevelopmentFile = requiredInProduction(service).filter(
      (name) => development[name] !== undefined,
    );
    expect(fromDevelopmentFile.length).toBeGreaterThan(0);

    const unset = start(service, { ...NO_NODE_ENV, LOG_FORMAT: '' });
    expect(await unset.closed).toBe(1);
    const problems = configProblems(unset);
    expect(problems.map((p) => p.variable)).toEqual(expect.arrayContaining(fromDevelopmentFile));
    const [fatal] = everyLineAsJson(unset);
    expect(fatal?.msg).toContain('NODE_ENV is not set, which means production');

    // the control: with NODE_ENV=development the same app reads the file, and only the one
    // variable broken on purpose is left to complain about
    const explicit = start(service, { NODE_ENV: 'development', LOG_LEVEL: 'loud' });
    expect(await explicit.closed).toBe(1);
    expect(configProblems(explicit).map((p) => p.variable)).toEqual(['LOG_LEVEL']);
  });
});

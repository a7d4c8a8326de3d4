// Each variable an app requires in production, removed in turn (the list comes from
// packages/config, not from this file): the app exits non-zero naming that variable and prints
// none of the secrets it was given. Nothing is contacted: configuration fails first.
import { randomBytes } from 'node:crypto';
import { describeServiceEnv, requiredInProduction, type ServiceName } from '@repo/config';
import { startServiceProcess } from '@repo/testing';
import { describe, expect, it } from 'vitest';
import { entries } from './lib/apps.ts';

const SERVICES: ServiceName[] = ['api', 'worker', 'beat', 'migrate'];

/** A valid value for each required variable; secrets carry a marker that must never be printed. */
function productionEnv(service: ServiceName): { env: Record<string, string>; secrets: string[] } {
  const env: Record<string, string> = { NODE_ENV: 'production' };
  const secrets: string[] = [];
  for (const variable of describeServiceEnv(service).filter((v) => v.required !== 'no')) {
    const marker = `Sekret${randomBytes(8).toString('hex')}`;
    const value = /_URL$/.test(variable.name)
      ? `${variable.name.startsWith('REDIS') ? 'redis' : 'postgresql'}://user:${marker}@127.0.0.1:9/db`
      : `${marker}${randomBytes(16).toString('hex')}`;
    env[variable.name] = value;
    if (variable.secret) secrets.push(marker, value);
  }
  return { env, secrets };
}

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
        'worker:WEBHOOK_SIGNING_SECRET',
        'beat:REDIS_URL',
      ]),
    );
  });

  it.each(cases)(
    '$service without $variable exits non-zero, names it, prints no secret',
    async ({ service, variable }) => {
      const { env, secrets } = productionEnv(service);
      delete env[variable];
      const child = startServiceProcess(entries[service], env);
      const code = await child.exited;
      const output = `${child.stderr()}\n${child
        .logs()
        .map((line) => JSON.stringify(line))
        .join('\n')}`;
      expect(code).not.toBe(0);
      expect(code).not.toBeNull();
      expect(output).toContain(variable);
      for (const secret of secrets) expect(output).not.toContain(secret);
    },
  );
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  describeServiceEnv,
  renderServicesEnvReference,
  requiredInProduction,
} from './services.ts';

describe('environment reference', () => {
  it('docs/environment.md is what the schemas generate (run `pnpm docs:env`)', () => {
    const committed = readFileSync(
      new URL('../../../docs/environment.md', import.meta.url),
      'utf8',
    );
    expect(committed).toBe(renderServicesEnvReference());
  });

  it('derives required variables and defaults from the schemas', () => {
    expect(requiredInProduction('api').sort()).toEqual([
      'API_KEYS',
      'DATABASE_URL',
      'REDIS_URL',
      'WEBHOOK_SECRETS_KEY',
    ]);
    expect(requiredInProduction('beat')).toEqual(['DATABASE_URL', 'REDIS_URL']);
    const port = describeServiceEnv('api').find((v) => v.name === 'PORT');
    expect(port).toMatchObject({ required: 'no', default: '8000', secret: false });
    const workerHealth = describeServiceEnv('worker').find((v) => v.name === 'HEALTH_PORT');
    const beatHealth = describeServiceEnv('beat').find((v) => v.name === 'HEALTH_PORT');
    expect([workerHealth?.default, beatHealth?.default]).toEqual(['8001', '8002']);
  });

  it('documents every variable and marks secrets', () => {
    for (const service of ['api', 'worker', 'beat', 'migrate'] as const) {
      for (const variable of describeServiceEnv(service)) {
        expect(variable.description, `${service} ${variable.name}`).not.toBe('');
      }
    }
    const secrets = describeServiceEnv('worker')
      .filter((v) => v.secret)
      .map((v) => v.name);
    expect(secrets.sort()).toEqual([
      'DATABASE_URL',
      'REDIS_URL',
      'WEBHOOK_SECRETS_KEY',
      'WEBHOOK_SECRETS_PREVIOUS_KEYS',
      'WEBHOOK_SIGNING_SECRET',
    ]);
  });
});

import { apiEnv } from '@repo/api/env';
import { beatEnv } from '@repo/beat/env';
import {
  describeEnvVariables,
  type EnvVarReference,
  renderEnvReference,
  requiredInProductionOf,
} from '@repo/config';
import { migrateEnv } from '@repo/db/env';
import { workerEnv } from '@repo/worker/env';

/**
 * Every process a deployment runs, and the environment it loads. Each is composed where it runs
 * (an app's src/env.ts); this is only the list, in the order docs/environment.md shows them.
 */
export const serviceEnvs = {
  api: apiEnv,
  worker: workerEnv,
  beat: beatEnv,
  migrate: migrateEnv,
} as const;
export type ServiceName = keyof typeof serviceEnvs;

/** What a service's environment says about each of its variables. */
export const describeServiceEnv = (service: ServiceName): EnvVarReference[] =>
  describeEnvVariables(serviceEnvs[service]);

/** The variables a deployment of `service` must provide (NODE_ENV=production). */
export const requiredInProduction = (service: ServiceName): string[] =>
  requiredInProductionOf(serviceEnvs[service]);

/** docs/environment.md. */
export const renderServicesEnvReference = (): string => renderEnvReference(serviceEnvs);

import { z } from 'zod';
import { apiAuthEnv } from './fragments/auth.ts';
import { beatEnv } from './fragments/beat.ts';
import { appRoleEnv, databaseEnv, migrationEnv } from './fragments/database.ts';
import { healthCheckEnv, healthServerEnv } from './fragments/health.ts';
import { httpEnv } from './fragments/http.ts';
import { redisEnv } from './fragments/redis.ts';
import { runtimeEnv } from './fragments/runtime.ts';
import { drainEnv, shutdownEnv } from './fragments/shutdown.ts';
import { maintenanceEnv, webhookEnv, workerEnv } from './fragments/worker.ts';

// Each deployable service's environment is the fragments it needs, nothing more: the docs
// generator and the deploy-file checks read these objects, so a variable is named once.

export const apiEnv = z
  .object({
    ...runtimeEnv.shape,
    ...databaseEnv.shape,
    ...migrationEnv.shape,
    ...redisEnv.shape,
    ...httpEnv.shape,
    ...apiAuthEnv.shape,
    ...shutdownEnv.shape,
    ...drainEnv.shape,
    ...healthCheckEnv.shape,
  })
  .superRefine((env, ctx) => {
    if ((env.ADMIN_USERNAME === undefined) !== (env.ADMIN_PASSWORD === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.ADMIN_USERNAME === undefined ? 'ADMIN_USERNAME' : 'ADMIN_PASSWORD'],
        message:
          'ADMIN_USERNAME and ADMIN_PASSWORD go together: set both to enable the dashboard, or neither',
      });
    }
  });
export type ApiConfig = z.output<typeof apiEnv>;

export const workerServiceEnv = z.object({
  ...runtimeEnv.shape,
  ...databaseEnv.shape,
  ...migrationEnv.shape,
  ...redisEnv.shape,
  ...workerEnv.shape,
  ...webhookEnv.shape,
  ...maintenanceEnv.shape,
  ...shutdownEnv.shape,
  ...healthServerEnv(8001).shape,
  ...healthCheckEnv.shape,
});
export type WorkerServiceConfig = z.output<typeof workerServiceEnv>;

export const beatServiceEnv = z.object({
  ...runtimeEnv.shape,
  ...redisEnv.shape,
  ...beatEnv.shape,
  ...shutdownEnv.shape,
  ...healthServerEnv(8002).shape,
  ...healthCheckEnv.shape,
});
export type BeatServiceConfig = z.output<typeof beatServiceEnv>;

/** The one-off `migrate` command (compose service, Render/Railway pre-deploy step). */
export const migrateEnv = z.object({
  ...runtimeEnv.shape,
  ...databaseEnv.shape,
  ...appRoleEnv.shape,
});
export type MigrateConfig = z.output<typeof migrateEnv>;

export const serviceEnvs = {
  api: apiEnv,
  worker: workerServiceEnv,
  beat: beatServiceEnv,
  migrate: migrateEnv,
} as const;
export type ServiceName = keyof typeof serviceEnvs;

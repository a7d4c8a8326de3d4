import { describeEnv, duration, runtimeEnv } from '@repo/config';
import { databaseEnv } from '@repo/db/env';
import { healthCheckEnv, healthServerEnv } from '@repo/health/env';
import { redisEnv } from '@repo/jobs/env';
import { shutdownEnv } from '@repo/lifecycle/env';
import { z } from 'zod';

/** Every variable beat reads: the packages' fragments it uses and its own. */
export const beatEnv = z.object({
  ...runtimeEnv().shape,
  ...databaseEnv().shape,
  ...redisEnv().shape,
  BEAT_RESYNC_INTERVAL: describeEnv(duration({ min: 5_000 }).prefault('5m'), {
    description:
      'How often beat re-applies the schedules (declared in code and defined through the API), repairing any that were removed or changed in Redis. A change through the API is applied at once besides.',
  }),
  ...shutdownEnv().shape,
  ...healthServerEnv(8002).shape,
  ...healthCheckEnv().shape,
});
export type BeatConfig = z.output<typeof beatEnv>;

import { z } from 'zod';
import { describeEnv, duration } from '../env-values.ts';

export const shutdownEnv = z.object({
  SHUTDOWN_TIMEOUT: describeEnv(duration({ min: 1_000, max: 3_600_000 }).prefault('25s'), {
    description:
      'After SIGTERM, how long in-flight requests and jobs may run before the process exits anyway. Keep it below the platform grace period.',
  }),
});
export type ShutdownConfig = z.output<typeof shutdownEnv>;

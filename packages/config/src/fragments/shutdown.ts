import { z } from 'zod';
import { describeEnv, duration } from '../env-values.ts';

export const shutdownEnv = z.object({
  SHUTDOWN_TIMEOUT: describeEnv(duration({ min: 1_000, max: 3_600_000 }).prefault('25s'), {
    description:
      'After SIGTERM, how long in-flight requests and jobs may run before the process exits anyway. Keep it below the platform grace period.',
  }),
});
export type ShutdownConfig = z.output<typeof shutdownEnv>;

/** The api only: it sits behind load balancers that must notice it is leaving before it stops listening. */
export const drainEnv = z.object({
  SHUTDOWN_DRAIN_DELAY: describeEnv(duration({ max: 60_000 }).prefault('5s'), {
    description:
      'After SIGTERM, how long the api keeps serving with /health/ready answering 503 before it stops accepting connections, so load balancers take it out of rotation first. SHUTDOWN_TIMEOUT starts after it; keep both together below the platform grace period.',
  }),
});
export type DrainConfig = z.output<typeof drainEnv>;

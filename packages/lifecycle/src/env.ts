import { describeEnv, duration } from '@repo/config';
import { z } from 'zod';

const shutdown = z.object({
  SHUTDOWN_TIMEOUT: describeEnv(duration({ min: 1_000, max: 3_600_000 }).prefault('25s'), {
    description:
      'After SIGTERM, how long in-flight requests and jobs may run before the process exits anyway. Keep it below the platform grace period.',
  }),
});

/** Every service run by runService has it. */
export const shutdownEnv = () => shutdown;
export type ShutdownEnv = z.output<typeof shutdown>;

const drain = z.object({
  SHUTDOWN_DRAIN_DELAY: describeEnv(duration({ max: 60_000 }).prefault('5s'), {
    description:
      'After SIGTERM, how long the api keeps serving with /health/ready answering 503 before it stops accepting connections, so load balancers take it out of rotation first. SHUTDOWN_TIMEOUT starts after it; keep both together below the platform grace period.',
  }),
});

/** For a service behind load balancers, which must notice it is leaving before it stops listening. */
export const drainEnv = () => drain;
export type DrainEnv = z.output<typeof drain>;

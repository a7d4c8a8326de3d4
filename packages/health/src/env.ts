import { describeEnv, duration, integer } from '@repo/config';
import { z } from 'zod';

/**
 * The variables of a health server (worker and beat serve /health and /metrics on one of their
 * own); each app gives its own default port so several run side by side in development.
 */
export function healthServerEnv(defaultPort: number) {
  return z.object({
    HEALTH_PORT: describeEnv(integer({ min: 1, max: 65_535 }).prefault(String(defaultPort)), {
      description: 'Port of the /health/live, /health/ready and /metrics server.',
    }),
    HEALTH_HOST: describeEnv(z.string().min(1).prefault('::'), {
      description: 'Address the health server listens on.',
    }),
  });
}
export type HealthServerEnv = z.output<ReturnType<typeof healthServerEnv>>;

const healthCheck = z.object({
  HEALTH_CHECK_TIMEOUT: describeEnv(duration({ min: 50, max: 60_000 }).prefault('2s'), {
    description: 'A dependency check that takes longer counts as failed.',
  }),
});

/** The variables of a process that runs health checks. */
export const healthCheckEnv = () => healthCheck;
export type HealthCheckEnv = z.output<typeof healthCheck>;

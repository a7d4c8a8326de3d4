import { z } from 'zod';
import { describeEnv, duration, integer } from '../env-values.ts';

/** worker and beat serve /health and /metrics on their own small server; each gets its own default port so both run side by side in development. */
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

export const healthCheckEnv = z.object({
  HEALTH_CHECK_TIMEOUT: describeEnv(duration({ min: 50, max: 60_000 }).prefault('2s'), {
    description: 'A dependency check that takes longer counts as failed.',
  }),
});
export type HealthServerConfig = z.output<ReturnType<typeof healthServerEnv>>;
export type HealthCheckConfig = z.output<typeof healthCheckEnv>;

import { z } from 'zod';
import { describeEnv, secretList, secretString } from '../env-values.ts';

export const apiAuthEnv = z.object({
  API_KEYS: describeEnv(secretList({ minLength: 16 }).optional(), {
    description:
      'Comma-separated bearer tokens accepted on /v1 (several at once for rotation). Required in production.',
    example: 'key-for-service-a-0123456789,key-for-service-b-0123456789',
    secret: true,
    requiredInProduction: true,
  }),
  METRICS_TOKEN: describeEnv(secretString({ minLength: 16 }).optional(), {
    description: 'When set, GET /metrics requires Authorization: Bearer <this token>.',
    secret: true,
  }),
  ADMIN_USERNAME: describeEnv(z.string().min(1).optional(), {
    description:
      'HTTP basic auth user for the /admin/queues dashboard; without it the dashboard is off (404).',
    example: 'admin',
  }),
  ADMIN_PASSWORD: describeEnv(secretString({ minLength: 12 }).optional(), {
    description: 'HTTP basic auth password for the /admin/queues dashboard.',
    secret: true,
  }),
});
export type ApiAuthConfig = z.output<typeof apiAuthEnv>;

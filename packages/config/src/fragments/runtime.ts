import { z } from 'zod';
import { describeEnv } from '../env-values.ts';

export const runtimeEnv = z.object({
  NODE_ENV: describeEnv(z.enum(['development', 'test', 'production']).prefault('development'), {
    description:
      'development reads .env files and logs readably; production requires API keys and logs JSON.',
    example: 'production',
  }),
  LOG_LEVEL: describeEnv(
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).prefault('info'),
    { description: 'Minimum level written to the log.', example: 'info' },
  ),
  LOG_FORMAT: describeEnv(z.enum(['json', 'pretty']).optional(), {
    description:
      'json (one object per line) or pretty; defaults to pretty in development, json elsewhere.',
    example: 'json',
  }),
});
export type RuntimeConfig = z.output<typeof runtimeEnv>;

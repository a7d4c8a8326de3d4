import { z } from 'zod';
import { describeEnv } from './env-values.ts';

/**
 * The NODE_ENV values that relax production's rules (read .env files, accept development
 * placeholders, make API keys optional). Anything else, a missing NODE_ENV included, is production:
 * a deployment that forgets to set it gets production's checks, not the development defaults.
 */
const RELAXED_NODE_ENVS: readonly (string | undefined)[] = ['development', 'test'];

/** True unless NODE_ENV is explicitly development or test. Empty counts as unset. */
export function runsAsProduction(nodeEnv: string | undefined): boolean {
  return !RELAXED_NODE_ENVS.includes(nodeEnv?.trim());
}

const runtime = z.object({
  NODE_ENV: describeEnv(z.enum(['development', 'test', 'production']).prefault('production'), {
    description:
      'production (also when unset) requires API keys, refuses published placeholder secrets and logs JSON; development and test read .env files, and development logs readably.',
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
/** NODE_ENV, LOG_LEVEL and LOG_FORMAT: every service has them (the logger and loadConfig read them). */
export const runtimeEnv = () => runtime;
export type RuntimeConfig = z.output<typeof runtime>;

/**
 * NODE_ENV, LOG_LEVEL and LOG_FORMAT read from a raw environment, each falling back to its default
 * when unset or invalid: enough to write a configuration error in the format the rest of the
 * process's lines would have, before there is a config.
 */
export function runtimeSettingsFor(
  env: Readonly<Record<string, string | undefined>>,
): RuntimeConfig {
  const { NODE_ENV, LOG_LEVEL, LOG_FORMAT } = runtime.shape;
  const raw = (name: keyof RuntimeConfig) => (env[name]?.trim() ? env[name] : undefined);
  return {
    NODE_ENV: NODE_ENV.safeParse(raw('NODE_ENV')).data ?? NODE_ENV.parse(undefined),
    LOG_LEVEL: LOG_LEVEL.safeParse(raw('LOG_LEVEL')).data ?? LOG_LEVEL.parse(undefined),
    LOG_FORMAT: LOG_FORMAT.safeParse(raw('LOG_FORMAT')).data,
  };
}

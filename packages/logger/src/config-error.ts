import type { ConfigError, RuntimeConfig } from '@repo/config';
import { type DestinationStream, pino } from 'pino';
import { lineOptions, logFormat } from './line-format.ts';

/**
 * Writes a broken environment's error to stderr before any logger exists (there is no valid
 * config to make one from). `runtime` is what the environment says about the format, as far as
 * it is valid (`runtimeSettingsFor` in @repo/config). Where the process's lines would be JSON
 * (production, or LOG_FORMAT=json) it is one fatal JSON line like any other, with the problems as
 * a field; in development it is the readable multi-line text.
 */
export function writeConfigError(
  error: ConfigError,
  options: {
    service: string;
    version: string;
    runtime: Pick<RuntimeConfig, 'NODE_ENV' | 'LOG_FORMAT'>;
    destination?: DestinationStream;
  },
): void {
  const destination = options.destination ?? pino.destination({ fd: 2, sync: true });
  if (logFormat(options.runtime) === 'pretty') {
    destination.write(`${error.message}\n`);
    return;
  }
  // always written, whatever LOG_LEVEL says: the process exits because of it
  pino(lineOptions(options.service, options.version, 'fatal'), destination).fatal(
    { problems: error.problems },
    error.summary,
  );
}

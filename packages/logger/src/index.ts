import type { RuntimeConfig } from '@repo/config';
import { type DestinationStream, type Logger, pino } from 'pino';
import { lineOptions, logFormat } from './line-format.ts';

export type { Logger } from 'pino';
export { writeConfigError } from './config-error.ts';
export { sendConsoleToLogger } from './console.ts';
export { lazyChild } from './lazy-child.ts';
export { logFormat } from './line-format.ts';

export interface LoggerOptions {
  service: string;
  version: string;
  config: Pick<RuntimeConfig, 'NODE_ENV' | 'LOG_LEVEL' | 'LOG_FORMAT'>;
  /** Where lines go; standard output when omitted. Tests pass a stream to read them back. */
  destination?: DestinationStream;
}

/**
 * Every log line carries `service` and `version`. Pretty output needs pino-pretty, a development
 * dependency: production images do not ship it, and asking for it there is a clear error.
 */
export async function createLogger({
  service,
  version,
  config,
  destination,
}: LoggerOptions): Promise<Logger> {
  const options = lineOptions(service, version, config.LOG_LEVEL);
  if (logFormat(config) === 'pretty' && destination === undefined) {
    const pretty = await import('pino-pretty').catch((error: unknown) => {
      throw new Error(
        'LOG_FORMAT=pretty needs pino-pretty, which is installed for development only; use LOG_FORMAT=json',
        { cause: error },
      );
    });
    return pino(options, pretty.default({ sync: true, ignore: 'pid,hostname,service,version' }));
  }
  // pino's own stdout destination writes asynchronously and flushes what is pending when the
  // process exits (pino's exit hook), so a line logged right before exit is not lost
  return destination ? pino(options, destination) : pino(options);
}

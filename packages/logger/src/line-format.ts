import type { RuntimeConfig } from '@repo/config';
import { pino } from 'pino';

/** Headers that carry credentials; pino replaces them before a line is written. */
const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
];

/** LOG_FORMAT when set; otherwise readable in development and one JSON object per line elsewhere. */
export function logFormat(
  config: Pick<RuntimeConfig, 'NODE_ENV' | 'LOG_FORMAT'>,
): 'json' | 'pretty' {
  return config.LOG_FORMAT ?? (config.NODE_ENV === 'development' ? 'pretty' : 'json');
}

/** pino's options for every line: ISO time, the level as a word, `service` and `version`, redaction. */
export function lineOptions(service: string, version: string, level: string) {
  return {
    level,
    base: { service, version },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
}

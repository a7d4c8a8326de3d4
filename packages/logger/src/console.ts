import { format } from 'node:util';
import type { Logger } from 'pino';

type ConsoleMethod = 'error' | 'warn' | 'info' | 'log' | 'debug';
const LEVELS: Record<ConsoleMethod, 'error' | 'warn' | 'info' | 'debug'> = {
  error: 'error',
  warn: 'warn',
  info: 'info',
  log: 'info',
  debug: 'debug',
};

/**
 * Libraries write to the console (BullMQ warns about the Redis version and eviction policy) and
 * Node prints its warnings to stderr, each as plain, often multi-line text. Where every line must
 * be one JSON object, those go through `logger` instead, at the matching level.
 */
export function sendConsoleToLogger(logger: Logger): void {
  for (const [method, level] of Object.entries(LEVELS) as [ConsoleMethod, typeof LEVELS.log][]) {
    console[method] = (...args: unknown[]) => {
      const [first] = args;
      if (first instanceof Error && args.length === 1) logger[level]({ err: first }, first.message);
      else logger[level](format(...args));
    };
  }
  // Node's default listener prints warnings as text; without it the event is only ours
  process.removeAllListeners('warning');
  process.on('warning', (warning) => logger.warn({ err: warning }, warning.message));
}

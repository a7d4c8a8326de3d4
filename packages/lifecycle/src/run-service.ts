import { ConfigError, type Env, loadConfig, runtimeSettingsFor, withEnvFiles } from '@repo/config';
import {
  createLogger,
  type Logger,
  logFormat,
  sendConsoleToLogger,
  writeConfigError,
} from '@repo/logger';
import type { z } from 'zod';

/** Every service's environment has these (runtime and shutdown fragments). */
type ServiceEnv = z.ZodObject<{
  NODE_ENV: z.ZodType<'development' | 'test' | 'production', string | undefined>;
  LOG_LEVEL: z.ZodType<
    'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent',
    string | undefined
  >;
  LOG_FORMAT: z.ZodType<'json' | 'pretty' | undefined, string | undefined>;
  SHUTDOWN_TIMEOUT: z.ZodType<number, string | undefined>;
}>;

export interface ServiceContext<S extends ServiceEnv> {
  config: Readonly<z.output<S>>;
  logger: Logger;
}

/** What readiness probes answer from (`@repo/health`'s Health satisfies it). */
export interface Readiness {
  setLifecycle(state: 'ready' | 'stopping'): void;
}

export interface RunningService {
  /**
   * Turned ready once `start` has resolved, and stopping as soon as a stop signal arrives (before
   * `drain`), so probes see the service leave before anything closes.
   */
  readiness?: Readiness;
  /**
   * Optional first step on SIGTERM, before `stop` and before SHUTDOWN_TIMEOUT starts counting:
   * announce that the service is leaving (readiness turns 503) and keep serving while load
   * balancers notice. Resolves when the service may stop taking work.
   */
  drain?(): Promise<void>;
  /**
   * Stop taking work, finish what is in flight, close connections. `deadline` aborts when
   * SHUTDOWN_TIMEOUT is up: give up waiting then (e.g. cancel jobs) and close anyway.
   */
  stop(deadline: AbortSignal): Promise<void>;
}

/**
 * Under `node --watch` (`pnpm dev`) one stop arrives twice: the terminal's Ctrl-C, or turbo
 * stopping its tasks, signals the whole process group, and the watcher passes the signal it got
 * on to the app. The same signal again within this window is that same stop, not a second one.
 * Only in watch mode: elsewhere (images, platforms, operators) a second signal exits at once.
 */
export const WATCH_MODE_DUPLICATE_SIGNAL_MS = 1_000;

/** Set by Node's watch mode in the process it runs (the app), never in production. */
const underNodeWatch = (env: Env) => env.WATCH_REPORT_DEPENDENCIES !== undefined;

export interface RunServiceOptions<S extends ServiceEnv> {
  service: string;
  version: string;
  envSchema: S;
  start(context: ServiceContext<S>): Promise<RunningService>;
  /** Defaults to process.env, merged with the .env files when NODE_ENV is development or test. */
  env?: Env;
}

/**
 * The start/stop sequence all apps share:
 * config (or one clear error, exit 1) → logger → start → "ready";
 * with JSON logs, the console and Node's warnings go through the logger too, so every line the
 * process writes is one JSON object;
 * SIGTERM/SIGINT → drain (if the service has such a step) → stop within SHUTDOWN_TIMEOUT → exit 0
 * (exit 1 when the time runs out);
 * a second signal → exit 1 at once.
 */
export async function runService<S extends ServiceEnv>(
  options: RunServiceOptions<S>,
): Promise<void> {
  const { service, version } = options;
  const env = options.env ?? withEnvFiles(process.env);
  let config: Readonly<z.output<S>>;
  try {
    config = loadConfig(options.envSchema, env, { service });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    writeConfigError(error, { service, version, runtime: runtimeSettingsFor(env) });
    process.exit(1);
  }

  const logger = await createLogger({ service, version, config });
  if (logFormat(config) === 'json') sendConsoleToLogger(logger);
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception');
    process.exit(1);
  });
  process.on('unhandledRejection', (reason) => {
    logger.fatal({ err: reason }, 'unhandled promise rejection');
    process.exit(1);
  });

  let running: RunningService | undefined;
  let stopping = false;
  const duplicateWindowMs = underNodeWatch(process.env) ? WATCH_MODE_DUPLICATE_SIGNAL_MS : 0;
  let first: { signal: NodeJS.Signals; at: number } | undefined;
  const onSignal = async (signal: NodeJS.Signals) => {
    if (first?.signal === signal && performance.now() - first.at < duplicateWindowMs) {
      logger.debug({ signal }, 'the same signal again from node --watch: one stop');
      first = undefined;
      return;
    }
    first ??= { signal, at: performance.now() };
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    stopping = true;
    if (!running) {
      logger.info({ signal }, 'signal during start-up: exiting');
      process.exit(0);
    }
    running.readiness?.setLifecycle('stopping');
    logger.info({ signal, timeoutMs: config.SHUTDOWN_TIMEOUT }, 'shutting down');
    try {
      await running.drain?.();
    } catch (error) {
      logger.error({ err: error }, 'draining failed; stopping now');
    }
    const deadline = AbortSignal.timeout(config.SHUTDOWN_TIMEOUT);
    // stop() should return soon after the deadline; if it hangs anyway, the process still ends.
    setTimeout(() => {
      logger.error('shutdown did not finish after SHUTDOWN_TIMEOUT: exiting');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT + 2_000).unref();
    const started = performance.now();
    try {
      await running.stop(deadline);
    } catch (error) {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
    const durationMs = Math.round(performance.now() - started);
    if (deadline.aborted) {
      logger.error(
        { durationMs },
        'shutdown ran past SHUTDOWN_TIMEOUT; work still in flight was abandoned',
      );
      process.exit(1);
    }
    logger.info({ durationMs }, 'stopped');
    process.exit(0);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const started = performance.now();
  try {
    running = await options.start({ config, logger });
  } catch (error) {
    logger.fatal({ err: error }, 'start-up failed');
    process.exit(1);
  }
  running.readiness?.setLifecycle('ready');
  logger.info({ startupMs: Math.round(performance.now() - started) }, 'ready');
}

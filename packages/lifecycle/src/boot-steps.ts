import type { Logger } from '@repo/logger';
import { collectDefaultMetrics, Registry } from 'prom-client';

/** A metrics registry holding Node's process metrics (CPU, memory, event loop lag), which every app exposes. */
export function createProcessMetrics(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

interface ErrorEmitter {
  on(event: 'error', listener: (error: Error) => void): unknown;
}

export interface RedisErrorLogging {
  logger: Logger;
  /** The Redis connection: each of its errors is logged, as a warning (it reconnects by itself). */
  connection: ErrorEmitter;
  /** What BullMQ builds on that connection (queues, workers), by name: each repeats the connection's errors. */
  clients: Readonly<Record<string, ErrorEmitter>>;
  /** True for an error that only means Redis is unreachable (`isRedisUnavailableError`). */
  isOutage(error: unknown): boolean;
}

/**
 * Logs a Redis outage once: on the connection. The BullMQ clients built on it repeat the same
 * errors, so only theirs that are not an outage are logged (and without a listener, BullMQ prints
 * them to the console).
 */
export function logRedisErrors({ logger, connection, clients, isOutage }: RedisErrorLogging): void {
  connection.on('error', (error) => logger.warn({ err: error }, 'redis connection error'));
  for (const [name, client] of Object.entries(clients)) {
    client.on('error', (error) => {
      if (!isOutage(error)) logger.error({ err: error }, `${name} error`);
    });
  }
}

import { EventEmitter } from 'node:events';
import { createLogger } from '@repo/logger';
import { captureJsonLines } from '@repo/testing';
import { describe, expect, it } from 'vitest';
import { createProcessMetrics, logRedisErrors } from './boot-steps.ts';

describe('createProcessMetrics', () => {
  it("holds Node's process metrics", async () => {
    const text = await createProcessMetrics().metrics();
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
  });
});

describe('logRedisErrors', () => {
  it('logs every connection error, and only the errors of its clients that are not an outage', async () => {
    const logs = captureJsonLines();
    const { lines } = logs;
    const logger = await createLogger({
      service: 'test',
      version: 'test',
      config: { NODE_ENV: 'test', LOG_LEVEL: 'info', LOG_FORMAT: 'json' },
      destination: logs.destination,
    });
    const connection = new EventEmitter();
    const queue = new EventEmitter();
    const worker = new EventEmitter();
    const outage = new Error('connect ECONNREFUSED');
    logRedisErrors({
      logger,
      connection,
      clients: { queue, worker },
      isOutage: (error) => error === outage,
    });

    connection.emit('error', outage);
    queue.emit('error', outage);
    worker.emit('error', outage);
    worker.emit('error', new Error('Missing lock for job 1'));

    expect(
      lines.map(({ level, msg, err }) => ({ level, msg, message: (err as Error).message })),
    ).toEqual([
      { level: 'warn', msg: 'redis connection error', message: 'connect ECONNREFUSED' },
      { level: 'error', msg: 'worker error', message: 'Missing lock for job 1' },
    ]);
  });
});

import { type JobQueue, QUEUE_NAME } from '@repo/jobs';
import type { Logger } from '@repo/logger';
import type { Request, RequestHandler } from 'express';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { callRedis } from './redis-availability.ts';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Where a request went, as a route template: raw paths carry ids and would grow the series without bound. */
function routeOf(req: Request): string {
  // the dashboard is one area; its internal routes are bull-board's business
  if (req.originalUrl.startsWith('/admin/queues')) return '/admin/queues';
  const path = req.route?.path;
  return typeof path === 'string' ? path : 'unmatched';
}

/** Counts and times every request by method, route template and status. */
export function httpMetrics(registry: Registry): RequestHandler {
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route template and status',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from receiving a request to finishing its response, by method, route template and status',
    labelNames,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  return (req, res, next) => {
    const started = performance.now();
    res.once('finish', () => {
      const labels = {
        method: KNOWN_METHODS.has(req.method) ? req.method : 'OTHER',
        route: routeOf(req),
        status: String(res.statusCode),
      };
      requests.inc(labels);
      duration.observe(labels, (performance.now() - started) / 1000);
    });
    next();
  };
}

const QUEUE_STATES = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
  'completed',
  'failed',
] as const;

/**
 * Queue depth by state, read from Redis when Prometheus scrapes. A slow or absent Redis must not
 * fail the whole scrape: the gauge is left empty for that scrape and the failure counted.
 */
export function registerQueueDepthMetrics(options: {
  registry: Registry;
  queue: JobQueue;
  timeoutMs: number;
  logger: Logger;
}): void {
  // prom-client collects all metrics of a scrape at once: the counter waits for this scrape's
  // reading, so a failure shows in the same scrape (the gauge is registered first for that).
  let reading: Promise<void> | undefined;
  const depth = new Gauge({
    name: 'queue_jobs',
    help: 'Jobs in the BullMQ queue, by state',
    labelNames: ['queue', 'state'] as const,
    registers: [options.registry],
    collect() {
      reading = readDepth();
      return reading;
    },
  });
  const failures = new Counter({
    name: 'queue_depth_collection_failures_total',
    help: 'Scrapes in which the queue depth could not be read from Redis',
    registers: [options.registry],
    async collect() {
      await reading;
    },
  });

  async function readDepth(): Promise<void> {
    depth.reset();
    try {
      const counts = await callRedis('count the queued jobs', options.timeoutMs, () =>
        options.queue.getJobCounts(...QUEUE_STATES),
      );
      for (const state of QUEUE_STATES) {
        depth.set({ queue: QUEUE_NAME, state }, counts[state] ?? 0);
      }
    } catch (error) {
      failures.inc();
      options.logger.warn({ err: error }, 'could not read the queue depth for /metrics');
    }
  }
}

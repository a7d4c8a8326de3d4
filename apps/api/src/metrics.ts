import type { JobRepository } from '@repo/db';
import { type JobQueue, readRedisMemory } from '@repo/jobs';
import type { Logger } from '@repo/logger';
import { createHttpRequestMetrics, registerScrapeTimeMetrics } from '@repo/metrics';
import { serverSpanNamer } from '@repo/tracing';
import type { Request, RequestHandler } from 'express';
import type { Registry } from 'prom-client';
import { callRedis } from './redis-availability.ts';

/** Where a request went, as a route template: raw paths carry ids and would grow the series without bound. */
export function routeOf(req: Request): string {
  // the dashboard is one area; its internal routes are bull-board's business
  if (req.originalUrl.startsWith('/admin/queues')) return '/admin/queues';
  const path = req.route?.path;
  return typeof path === 'string' ? path : 'unmatched';
}

/**
 * Times every request by method, route template and status, and names the request's trace span
 * after the same template.
 */
export function httpMetrics(registry: Registry): RequestHandler {
  const metrics = createHttpRequestMetrics(registry);
  return (req, res, next) => {
    const started = performance.now();
    const nameSpan = serverSpanNamer();
    res.once('finish', () => {
      const route = routeOf(req);
      metrics.answered(
        { method: req.method, route, status: res.statusCode },
        (performance.now() - started) / 1000,
      );
      nameSpan(req.method, route);
    });
    next();
  };
}

/**
 * The gauges read when Prometheus scrapes: BullMQ's counts from Redis (within `timeoutMs`) and
 * the backlog from the job rows.
 */
export function registerScrapeTimeGauges(options: {
  registry: Registry;
  queue: JobQueue;
  jobs: Pick<JobRepository, 'backlog'>;
  timeoutMs: number;
  logger: Logger;
}): void {
  registerScrapeTimeMetrics({
    registry: options.registry,
    readQueue: async () => {
      const counts = await callRedis('count the queued jobs', options.timeoutMs, () =>
        options.queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'failed'),
      );
      return {
        // every job has a priority, so BullMQ keeps waiting jobs in its prioritized set; jobs
        // without one (queued by older versions) are in its wait list
        waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
        delayed: counts.delayed ?? 0,
        active: counts.active ?? 0,
        failed: counts.failed ?? 0,
      };
    },
    // bounded by the pool's statement and query timeouts (DATABASE_STATEMENT_TIMEOUT)
    readBacklog: () => options.jobs.backlog(),
    readRedisMemory: () =>
      callRedis("read Redis's memory", options.timeoutMs, async () =>
        readRedisMemory(await options.queue.getBackend().client),
      ),
    onError: (source, error) =>
      options.logger.warn({ err: error, source }, 'could not read a gauge for /metrics'),
  });
}

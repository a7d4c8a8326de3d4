import { Registry } from 'prom-client';
import { createDbBatchSizeMetric } from './db-metrics.ts';
import { createHttpRequestMetrics } from './http-metrics.ts';
import { createJobMetrics } from './job-metrics.ts';
import { createJobOperationMetrics } from './job-operation-metrics.ts';
import { registerScrapeTimeMetrics } from './scrape-time-metrics.ts';
import { createWebhookDeliveryMetrics } from './webhook-metrics.ts';

/**
 * Every jobstack_* metric name with its Prometheus type, built from the factories themselves so
 * the list cannot drift from them: the dashboard and alert rules are checked against it.
 */
export function exportedMetricNames(): ReadonlyMap<string, string> {
  const registry = new Registry();
  createJobMetrics({ registry, types: [] });
  createHttpRequestMetrics(registry);
  createWebhookDeliveryMetrics(registry);
  createDbBatchSizeMetric(registry);
  createJobOperationMetrics(registry);
  registerScrapeTimeMetrics({
    registry,
    readQueue: () => Promise.reject(new Error('not read')),
    readBacklog: () => Promise.reject(new Error('not read')),
    readRedisMemory: () => Promise.reject(new Error('not read')),
    onError: () => {},
  });
  return new Map(registry.getMetricsAsArray().map((metric) => [metric.name, String(metric.type)]));
}

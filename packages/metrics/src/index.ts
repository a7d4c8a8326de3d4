export { boundedLabel, statusLabel } from './bounded-label.ts';
export { createDbBatchSizeMetric } from './db-metrics.ts';
export { createHttpRequestMetrics, type HttpRequestMetrics } from './http-metrics.ts';
export {
  createJobMetrics,
  JOB_OUTCOMES,
  type JobMetrics,
  type JobOutcome,
} from './job-metrics.ts';
export {
  CANCEL_OUTCOMES,
  type CancelOutcome,
  createJobOperationMetrics,
  type JobOperationMetrics,
} from './job-operation-metrics.ts';
export { exportedMetricNames } from './metric-names.ts';
export {
  createParkedMetric,
  PARK_PLACES,
  type ParkedMetric,
  type ParkPlace,
} from './parked-metrics.ts';
export {
  type JobBacklog,
  QUEUE_STATES,
  type QueueState,
  registerScrapeTimeMetrics,
  SCRAPE_SOURCES,
  type ScrapeSource,
  type ScrapeTimeMetricsOptions,
} from './scrape-time-metrics.ts';
export {
  createWebhookDeliveryMetrics,
  WEBHOOK_OUTCOMES,
  type WebhookDeliveryMetrics,
  type WebhookOutcome,
} from './webhook-metrics.ts';

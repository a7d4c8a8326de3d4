import { JOB_TYPE_NAMES } from '@repo/jobs';
import {
  createDbBatchSizeMetric,
  createJobMetrics,
  createWebhookDeliveryMetrics,
  type JobMetrics,
  type WebhookDeliveryMetrics,
} from '@repo/metrics';
import type { Registry } from 'prom-client';

/** What the worker measures, served on its health port's /metrics. */
export interface WorkerMetrics {
  jobs: JobMetrics;
  webhooks: WebhookDeliveryMetrics;
  /** For the job repository's `onBatch`: rows per group-commit UPDATE. */
  dbBatchSize: (size: number) => void;
}

export function createWorkerMetrics(registry: Registry): WorkerMetrics {
  return {
    jobs: createJobMetrics({ registry, types: JOB_TYPE_NAMES }),
    webhooks: createWebhookDeliveryMetrics(registry),
    dbBatchSize: createDbBatchSizeMetric(registry),
  };
}

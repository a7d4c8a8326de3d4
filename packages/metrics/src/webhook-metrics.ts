import { Histogram, type Registry } from 'prom-client';

/**
 * `delivered`: the receiver answered 2xx; `rejected`: it answered in a way a retry cannot change
 * (a 4xx other than 429, a redirect) or the destination is refused; `failed`: a network error, a
 * timeout, 429 or 5xx, retried while attempts remain.
 */
export const WEBHOOK_OUTCOMES = ['delivered', 'rejected', 'failed'] as const;
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];

export interface WebhookDeliveryMetrics {
  delivered(outcome: WebhookOutcome, seconds: number): void;
}

export function createWebhookDeliveryMetrics(registry: Registry): WebhookDeliveryMetrics {
  const duration = new Histogram({
    name: 'jobstack_webhook_delivery_duration_seconds',
    help: 'Time of one webhook delivery attempt, from connecting to the answer, by outcome (delivered, rejected, failed)',
    labelNames: ['outcome'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  return {
    delivered(outcome, seconds) {
      duration.observe({ outcome }, seconds);
    },
  };
}

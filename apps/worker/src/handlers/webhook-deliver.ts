import type { WebhookDeliveryMetrics, WebhookOutcome } from '@repo/metrics';
import { deliverWebhook, WebhookDeliveryError } from '@repo/webhooks';
import { UnrecoverableError } from 'bullmq';
import type { WebhookConfig } from '../env.ts';
import type { JobHandler } from './job-handler.ts';

export function webhookDeliver(
  config: WebhookConfig,
  metrics: WebhookDeliveryMetrics,
): JobHandler<'webhook.deliver'> {
  return async (payload, { id, signal }) => {
    const started = performance.now();
    const measure = (outcome: WebhookOutcome) =>
      metrics.delivered(outcome, (performance.now() - started) / 1000);
    try {
      const result = await deliverWebhook({
        id,
        url: payload.url,
        body: payload.body,
        ...(payload.headers ? { headers: payload.headers } : {}),
        secret: config.WEBHOOK_SIGNING_SECRET.reveal(),
        timeoutMs: config.WEBHOOK_TIMEOUT,
        allowPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
        signal,
      });
      measure('delivered');
      return result;
    } catch (error) {
      // a 4xx other than 429, a redirect or a refused destination will not change on retry
      if (error instanceof WebhookDeliveryError && !error.retryable) {
        measure('rejected');
        throw new UnrecoverableError(error.message);
      }
      measure('failed');
      throw error;
    }
  };
}

import { deliverWebhook, WebhookDeliveryError } from '@repo/webhooks';
import { UnrecoverableError } from 'bullmq';
import type { WebhookConfig } from '../env.ts';
import type { JobHandler } from './job-handler.ts';

export function webhookDeliver(config: WebhookConfig): JobHandler<'webhook.deliver'> {
  return async (payload, { id, signal }) => {
    try {
      return await deliverWebhook({
        id,
        url: payload.url,
        body: payload.body,
        ...(payload.headers ? { headers: payload.headers } : {}),
        secret: config.WEBHOOK_SIGNING_SECRET.reveal(),
        timeoutMs: config.WEBHOOK_TIMEOUT,
        allowPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
        signal,
      });
    } catch (error) {
      // a 4xx other than 429, a redirect or a refused destination will not change on retry
      if (error instanceof WebhookDeliveryError && !error.retryable) {
        throw new UnrecoverableError(error.message);
      }
      throw error;
    }
  };
}

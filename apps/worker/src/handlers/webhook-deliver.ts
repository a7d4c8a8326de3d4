import type { WebhookEndpointRepository } from '@repo/db';
import type { WebhookDeliveryMetrics, WebhookOutcome } from '@repo/metrics';
import {
  deliverWebhook,
  type SecretBox,
  SecretBoxError,
  WebhookDeliveryError,
} from '@repo/webhooks';
import { allowsRawUrls } from '@repo/webhooks/env';
import { UnrecoverableError } from 'bullmq';
import type { WebhookConfig } from '../env.ts';
import type { JobContext, JobHandler } from './job-handler.ts';

export interface WebhookDeliverDeps {
  config: WebhookConfig;
  metrics: WebhookDeliveryMetrics;
  endpoints: Pick<WebhookEndpointRepository, 'findById'>;
  /** Opens the endpoints' sealed secrets; undefined without WEBHOOK_SECRETS_KEY. */
  secretBox: SecretBox | undefined;
}

export function webhookDeliver(deps: WebhookDeliverDeps): JobHandler<'webhook.deliver'> {
  const { config, metrics } = deps;
  const destinationOf = destinations(deps);
  return async (payload, context) => {
    const started = performance.now();
    const measure = (outcome: WebhookOutcome) =>
      metrics.delivered(outcome, (performance.now() - started) / 1000);
    try {
      const { url, secret } = await destinationOf(payload);
      const result = await deliverWebhook({
        id: context.id,
        url,
        body: payload.body,
        ...(payload.headers ? { headers: payload.headers } : {}),
        secret,
        timeoutMs: config.WEBHOOK_TIMEOUT,
        allowPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
        signal: context.signal,
      });
      recordStatus(context, result.status);
      measure('delivered');
      return result;
    } catch (error) {
      if (error instanceof WebhookDeliveryError) recordStatus(context, error.status);
      // a 4xx other than 429, a redirect or a refused destination will not change on retry
      if (error instanceof WebhookDeliveryError && !error.retryable) {
        measure('rejected');
        throw new UnrecoverableError(error.message);
      }
      if (error instanceof UnrecoverableError) measure('rejected');
      else measure('failed');
      throw error;
    }
  };
}

function recordStatus(context: JobContext, status: number | undefined): void {
  if (status !== undefined) context.details.httpStatus = status;
}

/**
 * Where a delivery goes and what signs it: an endpoint's URL and secrets (the previous one too,
 * for a day after a rotation), or, where raw URLs are allowed, the payload's URL and
 * WEBHOOK_SIGNING_SECRET. What is missing now stays missing: those failures are final.
 */
function destinations({ config, endpoints, secretBox }: WebhookDeliverDeps) {
  return async (payload: {
    endpointId?: string | undefined;
    url?: string | undefined;
  }): Promise<{ url: string; secret: string | string[] }> => {
    if (payload.endpointId !== undefined) {
      if (!secretBox) {
        throw new UnrecoverableError(
          'WEBHOOK_SECRETS_KEY is not set, so the endpoint secrets cannot be read',
        );
      }
      const endpoint = await endpoints.findById(payload.endpointId);
      if (!endpoint) {
        throw new UnrecoverableError(`webhook endpoint ${payload.endpointId} no longer exists`);
      }
      try {
        const sealed = [
          endpoint.secret,
          ...(endpoint.previousSecret ? [endpoint.previousSecret] : []),
        ];
        return {
          url: endpoint.url,
          secret: sealed.map((each) => secretBox.open(each, endpoint.id)),
        };
      } catch (error) {
        if (!(error instanceof SecretBoxError)) throw error;
        throw new UnrecoverableError(`webhook endpoint ${endpoint.id}: ${error.message}`);
      }
    }
    const signingSecret = config.WEBHOOK_SIGNING_SECRET;
    if (payload.url === undefined || !allowsRawUrls(config) || !signingSecret) {
      throw new UnrecoverableError(
        'a delivery to a raw url is refused: WEBHOOK_ALLOW_RAW_URLS is off; deliver to an endpointId',
      );
    }
    return { url: payload.url, secret: signingSecret.reveal() };
  };
}

import type { JobRepository, WebhookEndpointRepository } from '@repo/db';
import type { ArrivalOptions, JobQueue } from '@repo/jobs';
import type { WebhookDeliveryMetrics } from '@repo/metrics';
import type { SecretBox } from '@repo/webhooks';
import type { MaintenanceConfig, WebhookConfig } from '../env.ts';
import type { JobHandlers } from './job-handler.ts';
import { maintenancePrune } from './maintenance-prune.ts';
import { maintenanceReconcile } from './maintenance-reconcile.ts';
import { systemEcho } from './system-echo.ts';
import { webhookDeliver } from './webhook-deliver.ts';

export type { AttemptDetails, JobContext, JobHandler, JobHandlers } from './job-handler.ts';

export function createHandlers(deps: {
  config: WebhookConfig & MaintenanceConfig;
  jobs: JobRepository;
  queue: JobQueue;
  webhookMetrics: WebhookDeliveryMetrics;
  webhookEndpoints: Pick<WebhookEndpointRepository, 'findById'>;
  /** Opens the endpoints' sealed signing secrets; undefined without WEBHOOK_SECRETS_KEY. */
  secretBox: SecretBox | undefined;
  /** Park on arrival for the jobs reconcile adds again (the workers' limits). */
  arrival?: ArrivalOptions;
}): JobHandlers {
  return {
    'system.echo': systemEcho,
    'webhook.deliver': webhookDeliver({
      config: deps.config,
      metrics: deps.webhookMetrics,
      endpoints: deps.webhookEndpoints,
      secretBox: deps.secretBox,
    }),
    'maintenance.reconcile': maintenanceReconcile(deps),
    'maintenance.prune': maintenancePrune(deps),
  };
}

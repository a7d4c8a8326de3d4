import type { JobRepository } from '@repo/db';
import type { JobQueue } from '@repo/jobs';
import type { WebhookDeliveryMetrics } from '@repo/metrics';
import type { MaintenanceConfig, WebhookConfig } from '../env.ts';
import type { JobHandlers } from './job-handler.ts';
import { maintenancePrune } from './maintenance-prune.ts';
import { maintenanceReconcile } from './maintenance-reconcile.ts';
import { systemEcho } from './system-echo.ts';
import { webhookDeliver } from './webhook-deliver.ts';

export type { JobContext, JobHandler, JobHandlers } from './job-handler.ts';

export function createHandlers(deps: {
  config: WebhookConfig & MaintenanceConfig;
  jobs: JobRepository;
  queue: JobQueue;
  webhookMetrics: WebhookDeliveryMetrics;
}): JobHandlers {
  return {
    'system.echo': systemEcho,
    'webhook.deliver': webhookDeliver(deps.config, deps.webhookMetrics),
    'maintenance.reconcile': maintenanceReconcile(deps),
    'maintenance.prune': maintenancePrune(deps),
  };
}

import type { WebhookEndpointRepository } from '@repo/db';
import type { JobPayload, JobType } from '@repo/jobs';
import { ValidationError } from './problems.ts';

/** Checks a job's payload against what exists beyond the contract, before the job is recorded. */
export type PayloadCheck = (type: JobType, payload: unknown) => Promise<void>;

/**
 * A webhook.deliver job names an endpoint that exists, or, only where WEBHOOK_ALLOW_RAW_URLS is
 * on, a raw `url`. The worker checks both again when it delivers (the endpoint may be deleted
 * meanwhile, the setting may differ); refusing here tells the client at once, naming the field.
 */
export function webhookDeliveryCheck(options: {
  endpoints: Pick<WebhookEndpointRepository, 'findById'>;
  allowRawUrls: boolean;
}): PayloadCheck {
  return async (type, payload) => {
    if (type !== 'webhook.deliver') return;
    const { url, endpointId } = payload as JobPayload<'webhook.deliver'>;
    const refuse = (field: string, message: string) =>
      new ValidationError(`The payload does not match the schema of job type "${type}".`, [
        { code: 'custom', path: ['body', 'payload', field], message },
      ]);
    if (url !== undefined && !options.allowRawUrls) {
      throw refuse(
        'url',
        'raw urls are not accepted (WEBHOOK_ALLOW_RAW_URLS is off): create a webhook endpoint (POST /v1/webhook-endpoints) and give its endpointId',
      );
    }
    if (endpointId !== undefined && !(await options.endpoints.findById(endpointId))) {
      throw refuse('endpointId', `there is no webhook endpoint with id ${endpointId}`);
    }
  };
}

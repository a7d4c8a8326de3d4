import { z } from 'zod';
import { defineJobType } from '../define-job-type.ts';

/** Headers the delivery sets itself; a payload may not override them. */
export const WEBHOOK_RESERVED_HEADERS = [
  'content-type',
  'content-length',
  'host',
  'user-agent',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
] as const;

const headerName = z
  .string()
  .regex(/^[A-Za-z0-9-]{1,64}$/, 'header names are letters, digits and dashes')
  .refine((name) => !(WEBHOOK_RESERVED_HEADERS as readonly string[]).includes(name.toLowerCase()), {
    message: 'this header is set by the delivery itself',
  });

export const webhookDeliver = defineJobType({
  type: 'webhook.deliver',
  description:
    "POSTs `body` as JSON to the webhook endpoint `endpointId` (POST /v1/webhook-endpoints), signed with the endpoint's secret as Standard Webhooks (see the README). A raw `url` instead, signed with WEBHOOK_SIGNING_SECRET, only where WEBHOOK_ALLOW_RAW_URLS is on. Retries network errors, 429 and 5xx with exponential backoff; other 4xx fail at once.",
  payload: z
    .strictObject({
      endpointId: z.uuid({ error: 'expected a webhook endpoint id (a UUID)' }).optional(),
      url: z
        .url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
        .max(2_048)
        .optional(),
      body: z.json(),
      headers: z.record(headerName, z.string().max(1_024)).optional(),
    })
    .refine((payload) => (payload.endpointId === undefined) !== (payload.url === undefined), {
      message: 'expected either endpointId (a webhook endpoint) or url, not both',
      path: ['endpointId'],
    }),
  result: z.object({ status: z.int(), durationMs: z.number() }),
  enqueueable: true,
  options: {
    attempts: 8,
    backoffMs: 2_000,
    keepCompletedSeconds: 86_400,
    keepFailedSeconds: 604_800,
  },
  // One tenant's slow receiver must not hold every worker: its deliveries wait their turn.
  limits: { maxConcurrentPerKey: 10 },
});

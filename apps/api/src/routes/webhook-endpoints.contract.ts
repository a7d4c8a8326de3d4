import { JOB_TYPE_NAMES } from '@repo/jobs';
import { z } from 'zod';
import {
  AUTHENTICATED_PROBLEMS,
  defineOperation,
  JSON_BODY_PROBLEMS,
  keysetPageFields,
  keysetPageQueryFields,
} from '../openapi/operation.ts';

/** The job events an endpoint may subscribe to: a job reaching one of these final statuses. */
export const JOB_EVENT_TYPES = [
  'job.succeeded',
  'job.failed',
  'job.expired',
  'job.cancelled',
] as const;

const uniqueList = <T extends z.ZodType>(item: T, max: number) =>
  z
    .array(item)
    .max(max)
    .refine((values) => new Set(values).size === values.length, 'lists each value once');

/**
 * An http(s) URL. Unless WEBHOOK_ALLOW_PRIVATE_NETWORKS is on, the router also refuses one that
 * names a non-public IP address (the worker's SSRF guard checks host names when it connects).
 */
const url = z
  .url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
  .max(2_048)
  .meta({ description: 'Where deliveries are POSTed: an http(s) URL on the internet.' });
const description = z.string().max(500).nullish().meta({ description: 'For people; not sent.' });
const eventTypes = uniqueList(z.enum(JOB_EVENT_TYPES), JOB_EVENT_TYPES.length).meta({
  description: 'The job events it receives: a job (any but webhook.deliver) reaching that status.',
});
const jobTypes = uniqueList(z.enum(JOB_TYPE_NAMES), JOB_TYPE_NAMES.length).meta({
  description: 'Only the events of jobs of these types; empty for every type.',
});

export const createWebhookEndpointBody = z
  .strictObject({
    url,
    description,
    eventTypes: eventTypes.default([]),
    jobTypes: jobTypes.default([]),
  })
  .meta({ id: 'CreateWebhookEndpoint' });

export const updateWebhookEndpointBody = z
  .strictObject({
    url: url.optional(),
    description,
    eventTypes: eventTypes.optional(),
    jobTypes: jobTypes.optional(),
  })
  .refine((body) => Object.keys(body).length > 0, 'expected at least one field to change')
  .meta({ id: 'UpdateWebhookEndpoint' });

export const webhookEndpointIdParams = z.object({
  id: z
    .uuid({ error: 'expected a webhook endpoint id (a UUID)' })
    .meta({ description: 'The webhook endpoint id.' }),
});

export const listWebhookEndpointsQuery = z.strictObject({
  ...keysetPageQueryFields('Endpoints'),
});

const endpointFields = {
  id: z.uuid(),
  url: z.string(),
  description: z.string().nullable(),
  eventTypes: z.array(z.enum(JOB_EVENT_TYPES)),
  jobTypes: z.array(z.string()).meta({ description: 'Empty: the events of every job type.' }),
  previousSecretExpiresAt: z.iso.datetime().nullable().meta({
    description:
      'Until then the secret replaced by the latest rotation signs too; null when none does.',
  }),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  links: z.strictObject({ self: z.string() }),
};

export const webhookEndpointSchema = z.strictObject(endpointFields).meta({
  id: 'WebhookEndpoint',
  description: 'A webhook endpoint; its secret is never shown again.',
});

export const webhookEndpointWithSecretSchema = z
  .strictObject({
    ...endpointFields,
    secret: z.string().meta({
      description:
        'The signing secret (Standard Webhooks `whsec_…`), shown only in this answer: receivers verify deliveries with it.',
    }),
  })
  .meta({ id: 'WebhookEndpointWithSecret' });

export const webhookEndpointListSchema = z
  .strictObject({
    webhookEndpoints: z.array(webhookEndpointSchema),
    ...keysetPageFields,
  })
  .meta({ id: 'WebhookEndpointList' });

export type WebhookEndpointResource = z.input<typeof webhookEndpointSchema>;
export type WebhookEndpointList = z.input<typeof webhookEndpointListSchema>;

const json = <S extends z.ZodType>(schema: S) => ({ 'application/json': { schema } });
const NOT_FOUND = [
  'validation-failed',
  'webhook-endpoint-not-found',
  'database-unavailable',
] as const;

export const createWebhookEndpoint = defineOperation({
  method: 'post',
  path: '/v1/webhook-endpoints',
  operationId: 'createWebhookEndpoint',
  summary: 'Create a webhook endpoint',
  description:
    'Answers with the signing secret, which is never shown again (rotate it to get a new one).',
  tag: 'Webhook endpoints',
  security: 'apiKey',
  request: { body: createWebhookEndpointBody },
  responses: {
    201: {
      description: 'The endpoint, with its secret.',
      headers: z.object({
        Location: z.string().meta({ description: '/v1/webhook-endpoints/{id}' }),
      }),
      content: json(webhookEndpointWithSecretSchema),
    },
  },
  problems: [
    ...AUTHENTICATED_PROBLEMS,
    ...JSON_BODY_PROBLEMS,
    'database-unavailable',
    'webhook-secrets-unavailable',
  ],
});

export const listWebhookEndpoints = defineOperation({
  method: 'get',
  path: '/v1/webhook-endpoints',
  operationId: 'listWebhookEndpoints',
  summary: 'List webhook endpoints, newest first',
  tag: 'Webhook endpoints',
  security: 'apiKey',
  request: { query: listWebhookEndpointsQuery },
  responses: {
    200: { description: 'A page of endpoints.', content: json(webhookEndpointListSchema) },
  },
  problems: [
    ...AUTHENTICATED_PROBLEMS,
    'validation-failed',
    'invalid-cursor',
    'database-unavailable',
  ],
});

export const getWebhookEndpoint = defineOperation({
  method: 'get',
  path: '/v1/webhook-endpoints/:id',
  operationId: 'getWebhookEndpoint',
  summary: 'Get a webhook endpoint',
  tag: 'Webhook endpoints',
  security: 'apiKey',
  request: { params: webhookEndpointIdParams },
  responses: { 200: { description: 'The endpoint.', content: json(webhookEndpointSchema) } },
  problems: [...AUTHENTICATED_PROBLEMS, ...NOT_FOUND],
});

export const updateWebhookEndpoint = defineOperation({
  method: 'patch',
  path: '/v1/webhook-endpoints/:id',
  operationId: 'updateWebhookEndpoint',
  summary: 'Change a webhook endpoint',
  description: 'Changes the fields given and keeps the others.',
  tag: 'Webhook endpoints',
  security: 'apiKey',
  request: { params: webhookEndpointIdParams, body: updateWebhookEndpointBody },
  responses: { 200: { description: 'The endpoint.', content: json(webhookEndpointSchema) } },
  problems: [...AUTHENTICATED_PROBLEMS, ...JSON_BODY_PROBLEMS, ...NOT_FOUND],
});

export const deleteWebhookEndpoint = defineOperation({
  method: 'delete',
  path: '/v1/webhook-endpoints/:id',
  operationId: 'deleteWebhookEndpoint',
  summary: 'Delete a webhook endpoint',
  description: 'Deliveries to it that have not been made yet fail for good.',
  tag: 'Webhook endpoints',
  security: 'apiKey',
  request: { params: webhookEndpointIdParams },
  responses: { 204: { description: 'Deleted.' } },
  problems: [...AUTHENTICATED_PROBLEMS, ...NOT_FOUND],
});

export const rotateWebhookEndpointSecret = defineOperation({
  method: 'post',
  path: '/v1/webhook-endpoints/:id/rotate-secret',
  operationId: 'rotateWebhookEndpointSecret',
  summary: "Rotate a webhook endpoint's signing secret",
  description:
    'Answers with a new secret. For 24 hours the one it replaces signs too (one signature per secret in `webhook-signature`), so receivers can switch over.',
  tag: 'Webhook endpoints',
  security: 'apiKey',
  request: { params: webhookEndpointIdParams },
  responses: {
    200: {
      description: 'The endpoint, with its new secret.',
      content: json(webhookEndpointWithSecretSchema),
    },
  },
  problems: [...AUTHENTICATED_PROBLEMS, ...NOT_FOUND, 'webhook-secrets-unavailable'],
});

export const webhookEndpointsOperations = [
  createWebhookEndpoint,
  listWebhookEndpoints,
  getWebhookEndpoint,
  updateWebhookEndpoint,
  deleteWebhookEndpoint,
  rotateWebhookEndpointSecret,
];

import { randomUUID } from 'node:crypto';
import type { WebhookEndpointRecord, WebhookEndpointRepository } from '@repo/db';
import { JOB_TYPE_NAMES } from '@repo/jobs';
import {
  assertPublicHost,
  BlockedDestinationError,
  generateSigningSecret,
  type SecretBox,
} from '@repo/webhooks';
import express, { Router } from 'express';
import { z } from 'zod';
import type { HttpConfig } from '../env.ts';
import { checkJsonBody } from '../middleware/check-json-body.ts';
import { methodNotAllowed } from '../middleware/method-not-allowed.ts';
import { requireJsonBody } from '../middleware/require-json-body.ts';
import { ProblemError, WebhookEndpointNotFoundError } from '../problems.ts';
import { parseRequestPart } from '../request-validation.ts';
import { DEFAULT_PAGE_SIZE, MAX_BODY_DEPTH, MAX_PAGE_SIZE } from './jobs.ts';

/** The job events an endpoint may subscribe to: a job reaching one of these final statuses. */
export const JOB_EVENT_TYPES = [
  'job.succeeded',
  'job.failed',
  'job.expired',
  'job.cancelled',
] as const;

/** After a rotation the replaced secret keeps signing this long, so receivers can switch over. */
export const PREVIOUS_SECRET_VALID_MS = 24 * 3_600_000;

export function webhookEndpointPath(id: string): string {
  return `/v1/webhook-endpoints/${id}`;
}

/** An endpoint as the API shows it. Its secret is shown only when created and rotated. */
export function webhookEndpointResource(endpoint: WebhookEndpointRecord) {
  return {
    id: endpoint.id,
    url: endpoint.url,
    description: endpoint.description ?? null,
    eventTypes: endpoint.eventTypes,
    /** Empty: the events of every job type. */
    jobTypes: endpoint.jobTypes,
    /** Until then the secret replaced by the latest rotation signs too; null when none does. */
    previousSecretExpiresAt: endpoint.previousSecretExpiresAt?.toISOString() ?? null,
    createdAt: endpoint.createdAt.toISOString(),
    updatedAt: endpoint.updatedAt.toISOString(),
    links: { self: webhookEndpointPath(endpoint.id) },
  };
}

/**
 * An http(s) URL, which, unless private networks are allowed, must not name a non-public IP
 * address: the rule the worker's SSRF guard applies when it connects (a host name is checked then,
 * against every address it resolves to).
 */
function endpointUrl(allowPrivateNetworks: boolean) {
  return z
    .url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
    .max(2_048)
    .superRefine((value, ctx) => {
      if (allowPrivateNetworks) return;
      try {
        assertPublicHost(new URL(value).hostname);
      } catch (error) {
        if (!(error instanceof BlockedDestinationError)) throw error;
        ctx.addIssue({
          code: 'custom',
          message: `${error.message}; webhook endpoints must be reachable on the internet`,
        });
      }
    });
}

const uniqueList = <T extends z.ZodType>(item: T, max: number) =>
  z
    .array(item)
    .max(max)
    .refine((values) => new Set(values).size === values.length, 'lists each value once');

const endpointIdParams = z.object({
  id: z.uuid({ error: 'expected a webhook endpoint id (a UUID)' }),
});

const listEndpointsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
  cursor: z.string().min(1).max(512).optional(),
});

export interface WebhookEndpointsRouterOptions {
  endpoints: WebhookEndpointRepository;
  /** Seals new signing secrets; undefined without WEBHOOK_SECRETS_KEY (no secret can be made). */
  secretBox: SecretBox | undefined;
  allowPrivateNetworks: boolean;
  config: Pick<HttpConfig, 'BODY_LIMIT'>;
}

export function webhookEndpointsRouter(options: WebhookEndpointsRouterOptions): Router {
  const { endpoints } = options;
  const router = Router();
  const fields = {
    url: endpointUrl(options.allowPrivateNetworks),
    description: z.string().max(500).nullish(),
    eventTypes: uniqueList(z.enum(JOB_EVENT_TYPES), JOB_EVENT_TYPES.length),
    jobTypes: uniqueList(z.enum(JOB_TYPE_NAMES), JOB_TYPE_NAMES.length),
  };
  const createBody = z.strictObject({
    ...fields,
    eventTypes: fields.eventTypes.default([]),
    jobTypes: fields.jobTypes.default([]),
  });
  const updateBody = z
    .strictObject({
      url: fields.url.optional(),
      description: fields.description,
      eventTypes: fields.eventTypes.optional(),
      jobTypes: fields.jobTypes.optional(),
    })
    .refine((body) => Object.keys(body).length > 0, 'expected at least one field to change');
  const jsonBody = [
    requireJsonBody(),
    express.json({ limit: options.config.BODY_LIMIT, strict: true, type: 'application/json' }),
    checkJsonBody(MAX_BODY_DEPTH),
  ];

  /** A new secret, and its sealed form for the row: the only time the secret is in the clear. */
  function newSecret(endpointId: string): { secret: string; sealed: string } {
    if (!options.secretBox) {
      throw new ProblemError(
        'webhook-secrets-unavailable',
        'Webhook endpoints need WEBHOOK_SECRETS_KEY, which this server is not given.',
      );
    }
    const secret = generateSigningSecret();
    return { secret, sealed: options.secretBox.seal(secret, endpointId) };
  }

  router
    .route('/v1/webhook-endpoints')
    .post(...jsonBody, async (req, res) => {
      const body = parseRequestPart(createBody, req.body, 'body');
      const id = randomUUID();
      const { secret, sealed } = newSecret(id);
      const endpoint = await endpoints.create({
        id,
        url: body.url,
        description: body.description ?? null,
        eventTypes: body.eventTypes,
        jobTypes: body.jobTypes,
        sealedSecret: sealed,
      });
      res
        .status(201)
        .location(webhookEndpointPath(id))
        .json({ ...webhookEndpointResource(endpoint), secret });
    })
    .get(async (req, res) => {
      const query = parseRequestPart(listEndpointsQuery, req.query, 'query');
      const page = await endpoints.list(query);
      const path = (cursor: string | undefined) =>
        `/v1/webhook-endpoints?${new URLSearchParams({
          limit: String(query.limit),
          ...(cursor === undefined ? {} : { cursor }),
        })}`;
      res.json({
        webhookEndpoints: page.endpoints.map(webhookEndpointResource),
        nextCursor: page.nextCursor,
        links: { self: path(query.cursor), next: page.nextCursor ? path(page.nextCursor) : null },
      });
    })
    .all(methodNotAllowed(['GET', 'HEAD', 'POST']));

  router
    .route('/v1/webhook-endpoints/:id')
    .get(async (req, res) => {
      const { id } = parseRequestPart(endpointIdParams, req.params, 'params');
      const endpoint = await endpoints.findById(id);
      if (!endpoint) throw new WebhookEndpointNotFoundError(id);
      res.json(webhookEndpointResource(endpoint));
    })
    .patch(...jsonBody, async (req, res) => {
      const { id } = parseRequestPart(endpointIdParams, req.params, 'params');
      const body = parseRequestPart(updateBody, req.body, 'body');
      const endpoint = await endpoints.update(id, {
        ...(body.url === undefined ? {} : { url: body.url }),
        ...(body.description === undefined ? {} : { description: body.description }),
        ...(body.eventTypes === undefined ? {} : { eventTypes: body.eventTypes }),
        ...(body.jobTypes === undefined ? {} : { jobTypes: body.jobTypes }),
      });
      if (!endpoint) throw new WebhookEndpointNotFoundError(id);
      res.json(webhookEndpointResource(endpoint));
    })
    .delete(async (req, res) => {
      const { id } = parseRequestPart(endpointIdParams, req.params, 'params');
      if (!(await endpoints.delete(id))) throw new WebhookEndpointNotFoundError(id);
      res.status(204).end();
    })
    .all(methodNotAllowed(['DELETE', 'GET', 'HEAD', 'PATCH']));

  router
    .route('/v1/webhook-endpoints/:id/rotate-secret')
    .post(async (req, res) => {
      const { id } = parseRequestPart(endpointIdParams, req.params, 'params');
      const { secret, sealed } = newSecret(id);
      const endpoint = await endpoints.rotateSecret(id, sealed, PREVIOUS_SECRET_VALID_MS);
      if (!endpoint) throw new WebhookEndpointNotFoundError(id);
      res.json({ ...webhookEndpointResource(endpoint), secret });
    })
    .all(methodNotAllowed(['POST']));

  return router;
}

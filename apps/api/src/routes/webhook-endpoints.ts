import { randomUUID } from 'node:crypto';
import type { WebhookEndpointRecord, WebhookEndpointRepository } from '@repo/db';
import {
  assertPublicHost,
  BlockedDestinationError,
  generateSigningSecret,
  type SecretBox,
} from '@repo/webhooks';
import express, { Router } from 'express';
import type { HttpConfig } from '../env.ts';
import { checkJsonBody } from '../middleware/check-json-body.ts';
import { methodNotAllowed } from '../middleware/method-not-allowed.ts';
import { requireJsonBody } from '../middleware/require-json-body.ts';
import { ProblemError, ValidationError, WebhookEndpointNotFoundError } from '../problems.ts';
import { parseRequestPart } from '../request-validation.ts';
import { MAX_BODY_DEPTH } from './jobs.ts';
import {
  createWebhookEndpointBody,
  listWebhookEndpointsQuery,
  updateWebhookEndpointBody,
  type WebhookEndpointList,
  type WebhookEndpointResource,
  webhookEndpointIdParams,
} from './webhook-endpoints.contract.ts';

/** After a rotation the replaced secret keeps signing this long, so receivers can switch over. */
export const PREVIOUS_SECRET_VALID_MS = 24 * 3_600_000;

export function webhookEndpointPath(id: string): string {
  return `/v1/webhook-endpoints/${id}`;
}

/** An endpoint as the API shows it. Its secret is shown only when created and rotated. */
export function webhookEndpointResource(endpoint: WebhookEndpointRecord): WebhookEndpointResource {
  return {
    id: endpoint.id,
    url: endpoint.url,
    description: endpoint.description ?? null,
    eventTypes: endpoint.eventTypes as WebhookEndpointResource['eventTypes'],
    jobTypes: endpoint.jobTypes,
    previousSecretExpiresAt: endpoint.previousSecretExpiresAt?.toISOString() ?? null,
    createdAt: endpoint.createdAt.toISOString(),
    updatedAt: endpoint.updatedAt.toISOString(),
    links: { self: webhookEndpointPath(endpoint.id) },
  };
}

/**
 * Unless private networks are allowed, a URL must not name a non-public IP address: the rule the
 * worker's SSRF guard applies when it connects (a host name is checked then, against every
 * address it resolves to).
 */
function checkPublicUrl(url: string | undefined, allowPrivateNetworks: boolean): void {
  if (url === undefined || allowPrivateNetworks) return;
  try {
    assertPublicHost(new URL(url).hostname);
  } catch (error) {
    if (!(error instanceof BlockedDestinationError)) throw error;
    throw new ValidationError('The request body did not pass validation.', [
      {
        code: 'custom',
        path: ['body', 'url'],
        message: `${error.message}; webhook endpoints must be reachable on the internet`,
      },
    ]);
  }
}

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
      const body = parseRequestPart(createWebhookEndpointBody, req.body, 'body');
      checkPublicUrl(body.url, options.allowPrivateNetworks);
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
      const query = parseRequestPart(listWebhookEndpointsQuery, req.query, 'query');
      const page = await endpoints.list(query);
      const path = (cursor: string | undefined) =>
        `/v1/webhook-endpoints?${new URLSearchParams({
          limit: String(query.limit),
          ...(cursor === undefined ? {} : { cursor }),
        })}`;
      const list: WebhookEndpointList = {
        webhookEndpoints: page.endpoints.map(webhookEndpointResource),
        nextCursor: page.nextCursor,
        links: { self: path(query.cursor), next: page.nextCursor ? path(page.nextCursor) : null },
      };
      res.json(list);
    })
    .all(methodNotAllowed(['GET', 'HEAD', 'POST']));

  router
    .route('/v1/webhook-endpoints/:id')
    .get(async (req, res) => {
      const { id } = parseRequestPart(webhookEndpointIdParams, req.params, 'params');
      const endpoint = await endpoints.findById(id);
      if (!endpoint) throw new WebhookEndpointNotFoundError(id);
      res.json(webhookEndpointResource(endpoint));
    })
    .patch(...jsonBody, async (req, res) => {
      const { id } = parseRequestPart(webhookEndpointIdParams, req.params, 'params');
      const body = parseRequestPart(updateWebhookEndpointBody, req.body, 'body');
      checkPublicUrl(body.url, options.allowPrivateNetworks);
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
      const { id } = parseRequestPart(webhookEndpointIdParams, req.params, 'params');
      if (!(await endpoints.delete(id))) throw new WebhookEndpointNotFoundError(id);
      res.status(204).end();
    })
    .all(methodNotAllowed(['DELETE', 'GET', 'HEAD', 'PATCH']));

  router
    .route('/v1/webhook-endpoints/:id/rotate-secret')
    .post(async (req, res) => {
      const { id } = parseRequestPart(webhookEndpointIdParams, req.params, 'params');
      const { secret, sealed } = newSecret(id);
      const endpoint = await endpoints.rotateSecret(id, sealed, PREVIOUS_SECRET_VALID_MS);
      if (!endpoint) throw new WebhookEndpointNotFoundError(id);
      res.json({ ...webhookEndpointResource(endpoint), secret });
    })
    .all(methodNotAllowed(['POST']));

  return router;
}

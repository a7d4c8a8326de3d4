import type { Secret } from '@repo/config';
import { type RequestHandler, Router } from 'express';
import type { Registry } from 'prom-client';
import { requireBearerToken } from '../middleware/authentication.ts';
import { methodNotAllowed } from '../middleware/method-not-allowed.ts';

/** GET /metrics in Prometheus' text format; behind a bearer token when one is configured. */
export function metricsRouter(options: { registry: Registry; token?: Secret | undefined }): Router {
  const authorize: RequestHandler = options.token
    ? requireBearerToken({ tokens: [options.token.reveal()], realm: 'metrics' })
    : (_req, _res, next) => next();
  const router = Router();
  router
    .route('/metrics')
    .get(authorize, async (_req, res) => {
      const text = await options.registry.metrics();
      res.set('Content-Type', options.registry.contentType).set('Cache-Control', 'no-store');
      res.send(text);
    })
    .all(methodNotAllowed(['GET', 'HEAD']));
  return router;
}

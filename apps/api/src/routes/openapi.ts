import { Router } from 'express';
import { methodNotAllowed } from '../middleware/method-not-allowed.ts';
import { createOpenApiDocument } from '../openapi/document.ts';
import { OPENAPI_DOCUMENT_PATH } from './openapi.contract.ts';

/** GET /v1/openapi.json: the API's contract, without credentials (see its operation). */
export function openApiRouter(): Router {
  const body = JSON.stringify(createOpenApiDocument());
  const router = Router();
  router
    .route(OPENAPI_DOCUMENT_PATH)
    .get((_req, res) => {
      res.type('application/json').send(body);
    })
    .all(methodNotAllowed(['GET', 'HEAD']));
  return router;
}

import { type RequestHandler, Router } from 'express';
import swaggerUi from 'swagger-ui-express';
import { methodNotAllowed } from '../middleware/method-not-allowed.ts';
import { apiReferenceSecurityHeaders } from '../middleware/security-headers.ts';
import { OPENAPI_DOCUMENT_PATH } from './openapi.contract.ts';

export const API_REFERENCE_PATH = '/docs';

/**
 * What the page loads from here: Swagger UI's build (swagger-ui-dist) and the script that starts
 * it. Nothing else of the package is served, so its demo page (index.html, which points at a
 * remote sample document) is not reachable under /docs.
 */
const PAGE_ASSETS = new Set([
  'swagger-ui.css',
  'swagger-ui-bundle.js',
  'swagger-ui-standalone-preset.js',
  'swagger-ui-init.js',
  'favicon-32x32.png',
  'favicon-16x16.png',
]);

const OPTIONS: swaggerUi.SwaggerUiOptions = {
  swaggerUrl: OPENAPI_DOCUMENT_PATH,
  customSiteTitle: 'jobstack API reference',
  swaggerOptions: {
    // without Swagger's top bar: the page shows this API's document only
    layout: 'BaseLayout',
    // Swagger UI would otherwise show a badge loaded from validator.swagger.io
    validatorUrl: null,
    // the key given to "Authorize" stays in the page's memory, not in the browser's storage
    persistAuthorization: false,
  },
};

/**
 * GET /docs: the interactive API reference (Swagger UI) of the document at /v1/openapi.json,
 * open without credentials as the document is; "Try it out" sends the API key the reader gives.
 * Every asset comes from this server (swagger-ui-dist), so the page's CSP allows this origin
 * only. A web page for people, like the queue dashboard: not an operation of the document.
 */
export function apiReferenceRouter(): Router {
  // rendered once; the page names its assets relative to /docs/, hence the redirect below
  const page = swaggerUi.generateHTML(undefined, OPTIONS);
  const pageAssets: RequestHandler = (req, _res, next) => {
    next(PAGE_ASSETS.has(req.path.slice(1)) ? undefined : 'router');
  };

  const reference = Router();
  reference
    .route('/')
    .get((req, res) => {
      if (!req.originalUrl.split('?')[0]?.endsWith('/')) {
        res.redirect(301, `${API_REFERENCE_PATH}/`);
        return;
      }
      res.type('html').send(page);
    })
    .all(methodNotAllowed(['GET', 'HEAD']));
  reference.use(pageAssets, ...swaggerUi.serveFiles(undefined, OPTIONS));

  const router = Router();
  router.use(API_REFERENCE_PATH, apiReferenceSecurityHeaders(), reference);
  return router;
}

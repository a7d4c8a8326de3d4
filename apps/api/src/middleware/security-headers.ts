import type { RequestHandler } from 'express';
import helmet from 'helmet';

/** The API answers JSON only: nothing it returns may load anything or be framed. */
export function apiSecurityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    },
  });
}

/**
 * The queue dashboard is a single-page app: its scripts and styles come from this server, its
 * markup uses inline styles, and it loads its fonts from Google Fonts.
 */
export function dashboardSecurityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        baseUri: ["'self'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'", "'unsafe-inline'", 'https://fonts.googleapis.com'],
        fontSrc: ["'self'", 'data:', 'https://fonts.gstatic.com'],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        // No upgrade-insecure-requests: on a plain-HTTP development server it would turn the
        // page's own requests into https:// ones that fail. Deployments serve HTTPS anyway.
      },
    },
  });
}

/**
 * The API reference (Swagger UI) at /docs: its scripts, styles and images come from this server,
 * its markup has an inline style block and style attributes, and it reads the document and sends
 * "Try it out" requests to this origin. No inline script, no other origin.
 */
export function apiReferenceSecurityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        baseUri: ["'none'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        formAction: ["'none'"],
        frameAncestors: ["'none'"],
      },
    },
  });
}

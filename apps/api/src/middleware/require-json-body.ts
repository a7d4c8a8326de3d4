import type { RequestHandler } from 'express';
import { UnsupportedMediaTypeError } from '../problems.ts';

/**
 * A request that carries a body must say it is JSON. A request without a body passes: the
 * validation that follows reports the missing fields, which is the more useful answer.
 */
export function requireJsonBody(): RequestHandler {
  return (req, _res, next) => {
    const length = req.get('content-length');
    const hasContent =
      req.get('transfer-encoding') !== undefined || (length !== undefined && length !== '0');
    if (hasContent && req.is('application/json') === false) {
      throw new UnsupportedMediaTypeError(req.get('content-type'));
    }
    next();
  };
}

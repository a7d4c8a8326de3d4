import type { RequestHandler } from 'express';
import { MethodNotAllowedError } from '../problems.ts';

/**
 * The last handler of a route: any method the route does not serve gets 405 with Allow (an
 * unknown path gets 404, so clients can tell a typo in the path from one in the method).
 * OPTIONS is answered with the same Allow list.
 */
export function methodNotAllowed(allowed: readonly string[]): RequestHandler {
  const allow = [...allowed, 'OPTIONS'];
  return (req, res) => {
    if (req.method === 'OPTIONS') {
      res.set('Allow', allow.join(', ')).status(204).end();
      return;
    }
    throw new MethodNotAllowedError(req.method, allow);
  };
}

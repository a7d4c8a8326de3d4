import type { RequestHandler } from 'express';
import { ValidationError } from '../problems.ts';

/**
 * Refuses a parsed JSON body nested deeper than `maxDepth`. Validation walks the body
 * recursively, and a body a few thousand levels deep (a few KB of brackets) would exhaust the
 * stack there; no job payload needs such depth. The walk itself is iterative.
 */
export function limitJsonDepth(maxDepth: number): RequestHandler {
  return (req, _res, next) => {
    if (depthExceeds(req.body, maxDepth)) {
      throw new ValidationError(`The body is nested more than ${maxDepth} levels deep.`, [
        { code: 'too_big', path: ['body'], message: `nesting deeper than ${maxDepth} levels` },
      ]);
    }
    next();
  };
}

function depthExceeds(root: unknown, maxDepth: number): boolean {
  const pending: [unknown, number][] = [[root, 0]];
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    const [value, depth] = item;
    if (value === null || typeof value !== 'object') continue;
    if (depth >= maxDepth) return true;
    for (const child of Object.values(value)) pending.push([child, depth + 1]);
  }
  return false;
}

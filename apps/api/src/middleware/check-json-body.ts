import type { RequestHandler } from 'express';
import { ValidationError } from '../problems.ts';

/**
 * Refuses a parsed JSON body that could not be validated, or not stored as the client sent it:
 *
 * - nested deeper than `maxDepth`: validation walks the body recursively, and a body a few
 *   thousand levels deep (a few KB of brackets) would exhaust the stack there;
 * - a string, value or key, that is not well-formed Unicode (a lone surrogate such as "\ud800"):
 *   JSON's escapes allow it, but PostgreSQL's jsonb refuses it and no UTF-8 text can carry it;
 * - the NUL character, which jsonb cannot store either;
 * - a number too large for a double (1e400): JSON.parse makes it Infinity, stored as null.
 *
 * The first problem found is answered with its path (["body", "payload", "data"]). The walk is
 * iterative, so the depth it checks cannot overflow the stack itself.
 */
export function checkJsonBody(maxDepth: number): RequestHandler {
  return (req, _res, next) => {
    const problem = findProblem(req.body, maxDepth);
    if (problem) throw problem;
    next();
  };
}

interface Node {
  value: unknown;
  depth: number;
  key: string | number | undefined;
  parent: Node | undefined;
}

/** The first thing `checkJsonBody` refuses in `root`, with its path from the body; undefined if none. */
export function findProblem(root: unknown, maxDepth: number): ValidationError | undefined {
  const pending: Node[] = [{ value: root, depth: 0, key: undefined, parent: undefined }];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    const { value } = node;
    if (typeof value === 'string') {
      const reason = stringProblem(value);
      if (reason) return invalid(node, `a string that ${reason}`, reason);
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) {
        return invalid(node, 'a number too large to store', 'is too large for a 64-bit float');
      }
    } else if (value !== null && typeof value === 'object') {
      if (node.depth >= maxDepth) {
        return new ValidationError(`The body is nested more than ${maxDepth} levels deep.`, [
          { code: 'too_big', path: ['body'], message: `nesting deeper than ${maxDepth} levels` },
        ]);
      }
      const depth = node.depth + 1;
      if (Array.isArray(value)) {
        value.forEach((child, index) => {
          pending.push({ value: child, depth, key: index, parent: node });
        });
      } else {
        for (const [key, child] of Object.entries(value)) {
          const keyNode: Node = { value: child, depth, key, parent: node };
          const reason = stringProblem(key);
          if (reason) return invalid(keyNode, `a key that ${reason}`, `its key ${reason}`);
          pending.push(keyNode);
        }
      }
    }
  }
  return undefined;
}

function stringProblem(text: string): string | undefined {
  if (!text.isWellFormed()) {
    return 'contains a lone UTF-16 surrogate (not well-formed Unicode)';
  }
  if (text.includes('\u0000')) return 'contains the NUL character (\\u0000)';
  return undefined;
}

function invalid(node: Node, what: string, message: string): ValidationError {
  const path: (string | number)[] = [];
  for (let at: Node | undefined = node; at?.key !== undefined; at = at.parent) path.unshift(at.key);
  return new ValidationError(`The body holds ${what}, which cannot be stored.`, [
    { code: 'custom', path: ['body', ...path], message },
  ]);
}

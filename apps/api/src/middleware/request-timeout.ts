import type { RequestHandler } from 'express';
import { sendProblem } from '../error-boundary.ts';
import { ProblemError } from '../problems.ts';

/**
 * Answers 503 when a request is not answered within `timeoutMs` and closes its connection, so a
 * stuck dependency cannot pile up open requests. The handler itself cannot be stopped; whatever
 * it does afterwards finds the response sent (see the error boundary).
 */
export function requestTimeout(timeoutMs: number): RequestHandler {
  return (req, res, next) => {
    const timer = setTimeout(() => {
      if (res.headersSent) return;
      res.setHeader('Connection', 'close');
      sendProblem(
        req,
        res,
        new ProblemError('request-timeout', `The request was not answered within ${timeoutMs} ms.`),
      );
    }, timeoutMs);
    res.once('close', () => clearTimeout(timer));
    next();
  };
}

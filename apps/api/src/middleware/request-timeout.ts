import type { Request, RequestHandler } from 'express';
import { sendProblem } from '../error-boundary.ts';
import { ProblemError, RequestAbandonedError } from '../problems.ts';

/** What a route tells the timeout's 503 about the work it has done so far. */
export interface RequestProgress {
  /** A sentence for the problem's detail: what happened, and what the client should do. */
  advice: string;
  /** Members added to the problem, e.g. whether a job may exist and its id. */
  members: Record<string, unknown>;
}

export interface RequestAbandonment {
  /**
   * Aborts, with a RequestAbandonedError, when REQUEST_TIMEOUT passes (just before the 503 is
   * sent) or when the client closes the connection before the answer is complete. Work that has
   * not started yet should not start any more.
   */
  readonly signal: AbortSignal;
  /** Called when the time runs out, after `signal` has aborted; its answer goes into the 503. */
  describeProgressWith(describe: () => RequestProgress): void;
}

const abandonments = new WeakMap<Request, RequestAbandonment>();

/** The abandonment of a request that passed through `requestTimeout`. */
export function requestAbandonment(req: Request): RequestAbandonment {
  const abandonment = abandonments.get(req);
  if (!abandonment) throw new Error('requestTimeout() must run before requestAbandonment()');
  return abandonment;
}

/**
 * Answers 503 when a request is not answered within `timeoutMs` and closes its connection, so a
 * stuck dependency cannot pile up open requests. The handler itself cannot be stopped; it learns
 * through `requestAbandonment(req).signal` that nobody waits for its work any more, and whatever
 * it does afterwards finds the response sent (see the error boundary).
 */
export function requestTimeout(timeoutMs: number): RequestHandler {
  return (req, res, next) => {
    const controller = new AbortController();
    let describe: (() => RequestProgress) | undefined;
    abandonments.set(req, {
      signal: controller.signal,
      describeProgressWith(describeProgress) {
        describe = describeProgress;
      },
    });
    const timer = setTimeout(() => {
      // aborting first lets work that has not started drop out (synchronously), so the progress
      // described below is final
      controller.abort(new RequestAbandonedError(`not answered within ${timeoutMs} ms`));
      if (res.headersSent) return;
      const progress = describe?.();
      res.setHeader('Connection', 'close');
      sendProblem(
        req,
        res,
        new ProblemError(
          'request-timeout',
          `The request was not answered within ${timeoutMs} ms.${progress ? ` ${progress.advice}` : ''}`,
          progress ? { extensions: progress.members } : {},
        ),
      );
    }, timeoutMs);
    res.once('close', () => {
      clearTimeout(timer);
      if (!res.writableFinished && !controller.signal.aborted) {
        controller.abort(new RequestAbandonedError('the client closed the connection'));
      }
    });
    next();
  };
}

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@repo/logger';
import { activeTraceId, traceIdOfTraceparent } from '@repo/tracing';
import type { RequestHandler } from 'express';

declare module 'http' {
  interface IncomingMessage {
    /** The request's id, echoed in X-Request-Id and on every log line about the request. */
    id: string;
    /** A logger that puts the request id on each line. */
    log: Logger;
  }
  interface ServerResponse {
    /** The error behind a 5xx answer, logged with the request's line. */
    err?: Error;
  }
}

/**
 * A caller's X-Request-Id is kept when it looks like an id (a proxy's or a client's trace id), so
 * one id follows a request across services; anything else (too long, odd characters that could
 * forge log lines) is replaced.
 */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

// Metrics scrapes come every few seconds and say nothing about the API's traffic. (Health probes
// are answered before this middleware; see app.ts.)
const UNLOGGED_PATHS = new Set(['/metrics']);

function requestIdOf(req: IncomingMessage, res: ServerResponse): string {
  const incoming = req.headers['x-request-id'];
  const id =
    typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID();
  res.setHeader('X-Request-Id', id);
  return id;
}

/**
 * Gives each request its id (echoed in X-Request-Id) and `req.log`, a logger that puts the id on
 * every line; logs one line per completed request: method, path, client address, user agent,
 * status and duration, with the error behind a 5xx. Both carry the request's trace id: its span's
 * when tracing is on, otherwise the caller's `traceparent` when one came.
 *
 * Written here rather than with pino-http, which does the same but builds two child loggers for
 * every request and logs every response header, a visible share of the API's CPU per
 * POST /v1/jobs (measured in bench/findings.md). Here `req.log` is built only for a request that
 * logs through it.
 */
export function requestLogging(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    const requestId = requestIdOf(req, res);
    const traceId = activeTraceId() ?? traceIdOfTraceparent(req.headers.traceparent);
    const ids = traceId === undefined ? { requestId } : { requestId, traceId };
    let requestLogger: Logger | undefined;
    req.id = requestId;
    Object.defineProperty(req, 'log', {
      configurable: true,
      get: () => {
        requestLogger ??= logger.child(ids);
        return requestLogger;
      },
    });

    if (!UNLOGGED_PATHS.has(req.path)) {
      // 'close' before 'finish': the client went away before the answer was complete (aborted)
      const logCompletion = () => {
        res.off('finish', logCompletion);
        res.off('close', logCompletion);
        const failed = res.err !== undefined || res.statusCode >= 500;
        const level = res.statusCode === 503 ? 'warn' : failed ? 'error' : 'info';
        logger[level](
          {
            ...ids,
            req: {
              method: req.method,
              url: req.originalUrl,
              // the client's address as Express sees it: behind TRUST_PROXY, from X-Forwarded-For
              remoteAddress: req.ip ?? req.socket.remoteAddress,
              userAgent: req.headers['user-agent'],
            },
            res: { statusCode: res.statusCode },
            ...(res.writableFinished ? {} : { aborted: true }),
            responseTime: Math.round(performance.now() - started),
            ...(failed
              ? { err: res.err ?? new Error(`failed with status ${res.statusCode}`) }
              : {}),
          },
          failed ? 'request errored' : 'request completed',
        );
      };
      res.on('finish', logCompletion);
      res.on('close', logCompletion);
    }
    next();
  };
}

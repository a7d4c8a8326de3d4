import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@repo/logger';
import type { RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';

/**
 * A caller's X-Request-Id is kept when it looks like an id (a proxy's or a client's trace id), so
 * one id follows a request across services; anything else (too long, odd characters that could
 * forge log lines) is replaced.
 */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** What pino's standard request serializer hands to ours; `raw` is the Express request. */
interface StandardSerializedRequest {
  method: string;
  url: string;
  remoteAddress?: string;
  headers: Record<string, string | undefined>;
  raw: { ip?: string };
}

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
 * Gives each request its id (echoed in X-Request-Id) and `req.log`, a child logger that puts the
 * id on every line; logs one line per completed request with its status and duration.
 */
export function requestLogging(logger: Logger): RequestHandler {
  return pinoHttp({
    logger,
    autoLogging: { ignore: (req) => UNLOGGED_PATHS.has((req.url ?? '').split('?', 1)[0] ?? '') },
    genReqId: requestIdOf,
    quietReqLogger: true,
    customAttributeKeys: { reqId: 'requestId' },
    customLogLevel: (_req, res, error) => {
      if (res.statusCode === 503) return 'warn';
      if (error !== undefined || res.statusCode >= 500) return 'error';
      return 'info';
    },
    serializers: {
      // the standard serializer's output, trimmed: every header on every line is mostly noise
      req: (req: StandardSerializedRequest) => ({
        method: req.method,
        url: req.url,
        // the client's address as Express sees it: behind TRUST_PROXY, from X-Forwarded-For
        remoteAddress: req.raw.ip ?? req.remoteAddress,
        userAgent: req.headers['user-agent'],
      }),
    },
  });
}

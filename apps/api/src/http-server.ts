import { once } from 'node:events';
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import type { Socket } from 'node:net';
import type { HttpConfig } from './env.ts';
import { type ProblemSlug, problemTypes, problemTypeUri } from './problems.ts';

// Above the idle timeout of the load balancers the platforms put in front (often 60 s): a proxy
// must never reuse a connection this server has just decided to close.
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export interface HttpServer {
  server: Server;
  listen(port: number, host: string): Promise<{ port: number }>;
  /**
   * Shutdown is coming: keep accepting and answering requests, but answer each with
   * Connection: close, so clients and proxies holding keep-alive connections here reconnect
   * (elsewhere, once the load balancer has noticed readiness is 503).
   */
  closeConnectionsAfterEachResponse(): void;
  /**
   * Stops accepting connections, closes idle keep-alive sockets, lets in-flight requests finish
   * (their responses carry Connection: close) and, when `deadline` aborts, closes what is left.
   */
  stop(deadline: AbortSignal): Promise<void>;
  /** Requests whose responses have not finished yet. */
  readonly inFlight: number;
}

export function createHttpServer(
  app: RequestListener,
  config: Pick<HttpConfig, 'REQUEST_TIMEOUT'>,
): HttpServer {
  const server = createServer();
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  // Node's own limits on receiving a request (slow clients); the app bounds handling separately.
  server.requestTimeout = config.REQUEST_TIMEOUT;
  server.headersTimeout = Math.min(config.REQUEST_TIMEOUT, 60_000);

  const inFlight = new Set<ServerResponse>();
  /** New responses say Connection: close (draining or stopping). */
  let stopping = false;
  let settled: (() => void) | undefined;

  // Registered before the app, so the header is set before the app can start its response.
  server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    inFlight.add(res);
    if (stopping) res.setHeader('Connection', 'close');
    res.once('close', () => {
      inFlight.delete(res);
      if (inFlight.size === 0) settled?.();
    });
  });
  server.on('request', app);
  server.on('clientError', answerClientError);

  return {
    server,
    get inFlight() {
      return inFlight.size;
    },
    async listen(port, host) {
      server.listen(port, host);
      await once(server, 'listening');
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no TCP address');
      return { port: address.port };
    },
    closeConnectionsAfterEachResponse() {
      stopping = true;
      for (const res of inFlight) {
        if (!res.headersSent) res.setHeader('Connection', 'close');
      }
    },
    async stop(deadline) {
      stopping = true;
      for (const res of inFlight) {
        if (!res.headersSent) res.setHeader('Connection', 'close');
      }
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();

      const onDeadline = () => settled?.();
      deadline.addEventListener('abort', onDeadline, { once: true });
      while (inFlight.size > 0 && !deadline.aborted) {
        await new Promise<void>((resolve) => {
          settled = resolve;
        });
      }
      deadline.removeEventListener('abort', onDeadline);
      // A response that had started before shutdown could not say Connection: close; its socket
      // is idle now. After the deadline, sockets of requests still running are cut.
      if (deadline.aborted) server.closeAllConnections();
      else server.closeIdleConnections();
      await closed;
    },
  };
}

/**
 * Requests Node cannot parse never reach the app (malformed HTTP, headers over the size limit, a
 * client too slow to send its request); they are still answered as problem+json.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  // a response already under way on this socket cannot be followed by another one
  const current = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || current?.headersSent) {
    socket.destroy();
    return;
  }
  const slug: ProblemSlug =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? 'headers-too-large'
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 'request-incomplete'
        : 'malformed-request';
  const { status, title } = problemTypes[slug];
  const body = JSON.stringify({
    type: problemTypeUri(slug),
    title,
    status,
    detail: 'The server could not read the request.',
  });
  socket.end(
    [
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
      'Content-Type: application/problem+json',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Connection: close',
      '',
      body,
    ].join('\r\n'),
  );
}

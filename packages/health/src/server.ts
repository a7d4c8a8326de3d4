import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Health, type HealthLogger, type HealthReport, statusCodeOf } from './health.ts';

/** prom-client's Registry satisfies this; the health package needs no metrics library of its own. */
export interface MetricsSource {
  contentType: string;
  metrics(): Promise<string>;
}

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * worker and beat have no HTTP API, so they serve /health, /health/live, /health/ready and
 * /metrics here. Plain node:http keeps Express out of their images.
 */
export async function startHealthServer(options: {
  health: Health;
  port: number;
  host: string;
  metrics?: MetricsSource;
  /** A request that failed (e.g. collecting metrics threw) is answered 500 and logged here. */
  logger: HealthLogger;
}): Promise<HealthServer> {
  const { health, metrics, logger } = options;
  const server: Server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const sendReport = (report: HealthReport) => {
      res.writeHead(statusCodeOf(report), {
        'content-type': 'application/json',
        'cache-control': 'no-store',
      });
      res.end(JSON.stringify(report));
    };
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
      } else if (path === '/health') {
        sendReport(await health.check());
      } else if (path === '/health/live') {
        sendReport(health.live());
      } else if (path === '/health/ready') {
        sendReport(await health.ready());
      } else if (path === '/metrics' && metrics) {
        const body = await metrics.metrics();
        res.writeHead(200, { 'content-type': metrics.contentType }).end(body);
      } else {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"status":404}');
      }
    } catch (error) {
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"status":500}');
      logger.error({ err: error, path }, 'health server request failed');
    }
  });
  // Health probes open short connections; idle keep-alive sockets must not delay shutdown.
  server.keepAliveTimeout = 1_000;
  server.listen(options.port, options.host);
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}

import { type Request, type Response, Router } from 'express';
import { type Health, type HealthReport, statusCodeOf } from './health.ts';

/** GET /health, /health/live and /health/ready, mounted at the app's root. */
export function healthRouter(health: Health): Router {
  const router = Router();
  // Written with Node's own response methods rather than res.json: a report is never cached
  // (no-store), so the ETag res.json would hash over it and the freshness check buy nothing, and
  // probes come every few seconds from every orchestrator: the API spends markedly less CPU per
  // probe this way (measured in BENCHMARKS.md). HEAD gets the same headers without the body.
  const send = (res: Response, report: HealthReport) => {
    const body = JSON.stringify(report);
    res.writeHead(statusCodeOf(report), {
      'Cache-Control': 'no-store',
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
    });
    res.end(body);
  };
  router.get('/health', async (_req: Request, res: Response) => send(res, await health.check()));
  router.get('/health/live', (_req: Request, res: Response) => send(res, health.live()));
  router.get('/health/ready', async (_req: Request, res: Response) =>
    send(res, await health.ready()),
  );
  return router;
}

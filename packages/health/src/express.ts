import { type Request, type Response, Router } from 'express';
import { type Health, type HealthReport, statusCodeOf } from './health.ts';

/** GET /health, /health/live and /health/ready, mounted at the app's root. */
export function healthRouter(health: Health): Router {
  const router = Router();
  const send = (res: Response, report: HealthReport) => {
    res.status(statusCodeOf(report)).set('Cache-Control', 'no-store').json(report);
  };
  router.get('/health', async (_req: Request, res: Response) => send(res, await health.check()));
  router.get('/health/live', (_req: Request, res: Response) => send(res, health.live()));
  router.get('/health/ready', async (_req: Request, res: Response) =>
    send(res, await health.ready()),
  );
  return router;
}

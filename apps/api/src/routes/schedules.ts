import { type JobQueue, listSchedules } from '@repo/jobs';
import { Router } from 'express';
import { methodNotAllowed } from '../middleware/method-not-allowed.ts';
import { callRedis } from '../redis-availability.ts';
import type { ScheduleList } from './schedules.contract.ts';

/** GET /v1/schedules: the recurring schedules beat registered in Redis, with their next run. */
export function schedulesRouter(options: { queue: JobQueue; redisTimeoutMs: number }): Router {
  const router = Router();
  router
    .route('/v1/schedules')
    .get(async (_req, res) => {
      const schedules = await callRedis('list the schedules', options.redisTimeoutMs, () =>
        listSchedules(options.queue),
      );
      const body: ScheduleList = {
        schedules: schedules.map((schedule) => ({
          ...schedule,
          nextRunAt: schedule.nextRunAt?.toISOString() ?? null,
        })),
      };
      res.json(body);
    })
    .all(methodNotAllowed(['GET', 'HEAD']));
  return router;
}

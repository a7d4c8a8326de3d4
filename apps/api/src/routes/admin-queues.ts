import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { errorResponse } from '@bull-board/api/dist/errors.js';
import { ExpressAdapter } from '@bull-board/express';
import { isRedisUnavailableError, type JobQueue } from '@repo/jobs';
import type { Logger } from '@repo/logger';
import { type RequestHandler, Router } from 'express';
import { requireBasicAuth } from '../middleware/authentication.ts';
import { dashboardSecurityHeaders } from '../middleware/security-headers.ts';

export const ADMIN_QUEUES_PATH = '/admin/queues';

/**
 * The bull-board dashboard at /admin/queues behind HTTP basic auth. It is read-only: retrying,
 * removing or promoting jobs in Redis behind the API's back would leave their Postgres rows
 * wrong, so every change of state goes through the API, which keeps Postgres the source of truth.
 */
export function adminQueuesRouter(options: {
  queue: JobQueue;
  username: string;
  password: string;
  logger: Logger;
}): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(ADMIN_QUEUES_PATH);
  createBullBoard({
    queues: [new BullMQAdapter(options.queue, { readOnlyMode: true, allowRetries: false })],
    serverAdapter,
    options: { uiConfig: { boardTitle: 'jobstack queues', hideDocsLink: true } },
  });
  // bull-board's own handler sends stack traces in development; this one never does, and logs
  // the failure once here, where it is handled.
  serverAdapter.setErrorHandler((error) => {
    // bull-board's status type stops at 500, so an outage is told in the message
    options.logger.warn({ err: error }, 'queue dashboard request failed');
    return errorResponse(500, 'ERRORS.INTERNAL_SERVER_ERROR', {
      message: isRedisUnavailableError(error)
        ? 'Redis is unavailable.'
        : 'The dashboard request failed.',
    });
  });

  const router = Router();
  router.use(
    ADMIN_QUEUES_PATH,
    dashboardSecurityHeaders(),
    requireBasicAuth({
      username: options.username,
      password: options.password,
      realm: 'queue dashboard',
    }),
    serverAdapter.getRouter() as RequestHandler,
  );
  return router;
}

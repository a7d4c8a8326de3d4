import type { JobRepository } from '@repo/db';
import { Router } from 'express';
import type { JobEventHub } from '../live/job-event-hub.ts';
import { JobEventStream } from '../live/job-event-stream.ts';
import { methodNotAllowed } from '../middleware/method-not-allowed.ts';
import { JobNotFoundError } from '../problems.ts';
import { parseRequestPart } from '../request-validation.ts';
import { streamJobEvents } from './jobs.contract.ts';

/**
 * GET /v1/jobs/:id/events: the job's status changes and progress as Server-Sent Events, until it
 * finishes. The stream is registered with the hub before the row is read, so nothing announced
 * in between is missed; the row read is the first event, on every (re)connect.
 *
 * Nothing between the stream and the client may hold it back: the app compresses nothing, the
 * request timeout only answers requests whose headers are not sent yet (these are sent at once),
 * and the heartbeat keeps the proxy's idle timeouts (infra/proxy) from closing a quiet stream.
 */
export function jobEventsRouter(options: {
  jobs: Pick<JobRepository, 'findById'>;
  hub: JobEventHub;
}): Router {
  const router = Router();
  router
    .route('/v1/jobs/:id/events')
    .get(async (req, res) => {
      const { id } = parseRequestPart(streamJobEvents.request.params, req.params, 'params');
      const jobId = id.toLowerCase();
      const stream = new JobEventStream(jobId, res, lastEventId(req.get('last-event-id')));
      options.hub.add(stream);
      res.once('close', () => {
        stream.end();
        options.hub.remove(stream);
      });
      let job: Awaited<ReturnType<JobRepository['findById']>>;
      try {
        job = await options.jobs.findById(jobId);
      } catch (error) {
        options.hub.remove(stream);
        throw error;
      }
      if (!job) {
        options.hub.remove(stream);
        throw new JobNotFoundError(jobId);
      }
      stream.open(job);
    })
    .all(methodNotAllowed(['GET', 'HEAD']));
  return router;
}

/** The id of the last event a reconnecting client saw (ours are numbers); anything else is none. */
function lastEventId(header: string | undefined): number | null {
  if (header === undefined || !/^\d{1,16}$/.test(header.trim())) return null;
  return Number(header.trim());
}

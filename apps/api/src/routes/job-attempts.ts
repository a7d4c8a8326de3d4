import type { JobAttemptLog, JobRepository } from '@repo/db';
import { Router } from 'express';
import { jobPath } from '../job-resource.ts';
import { methodNotAllowed } from '../middleware/method-not-allowed.ts';
import { JobNotFoundError } from '../problems.ts';
import { parseRequestPart } from '../request-validation.ts';
import type { JobAttemptList } from './job-attempts.contract.ts';
import { jobIdParams } from './jobs.contract.ts';

export interface JobAttemptsRouterOptions {
  jobs: Pick<JobRepository, 'findById'>;
  attempts: Pick<JobAttemptLog, 'listForJob'>;
}

/**
 * GET /v1/jobs/:id/attempts: each attempt of a job, in the order they ended, as the worker
 * recorded them. An attempt still running is not listed yet: the job's `attemptStartedAt` and
 * `workerId` say when it started and where.
 */
export function jobAttemptsRouter(options: JobAttemptsRouterOptions): Router {
  const router = Router();
  router
    .route('/v1/jobs/:id/attempts')
    .get(async (req, res) => {
      const { id } = parseRequestPart(jobIdParams, req.params, 'params');
      const [job, attempts] = await Promise.all([
        options.jobs.findById(id),
        options.attempts.listForJob(id),
      ]);
      if (!job) throw new JobNotFoundError(id);
      const list: JobAttemptList = {
        jobId: job.id,
        attempts: attempts.map((attempt) => ({
          attempt: attempt.attempt,
          startedAt: attempt.startedAt.toISOString(),
          finishedAt: attempt.finishedAt.toISOString(),
          durationMs: attempt.durationMs,
          outcome: attempt.outcome,
          error: attempt.error,
          workerId: attempt.workerId,
          httpStatus: attempt.httpStatus,
        })),
        links: { self: `${jobPath(job.id)}/attempts`, job: jobPath(job.id) },
      };
      res.json(list);
    })
    .all(methodNotAllowed(['GET', 'HEAD']));
  return router;
}

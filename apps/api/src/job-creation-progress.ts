import { jobPath } from './job-resource.ts';
import type { RequestProgress } from './middleware/request-timeout.ts';

/**
 * How far a POST /v1/jobs has come, in the words its 503 answers use: `jobMayExist`, plus the
 * job's id when it is known, and what the client should do. Every 503 a POST can end with
 * (request-timeout, server-busy, database-unavailable, queue-unavailable) carries it, so a client
 * always knows whether posting again could create a second job.
 */
export class JobCreationProgress {
  readonly hasIdempotencyKey: boolean;
  #progress: RequestProgress = {
    advice: 'No job was created: posting the request again is safe.',
    members: { jobMayExist: false },
  };

  constructor(hasIdempotencyKey: boolean) {
    this.hasIdempotencyKey = hasIdempotencyKey;
  }

  /** The INSERT carrying the job, whose row gets `id`, has gone to PostgreSQL. */
  insertSent(id: string): void {
    this.#progress = this.hasIdempotencyKey
      ? {
          // with a key, the job that exists may be the key's earlier one, under another id
          advice:
            'The job may have been created: retry with the same Idempotency-Key, which answers with the job if it exists and creates it otherwise.',
          members: { jobMayExist: true },
        }
      : {
          advice: `Job ${id} may have been created: GET ${jobPath(id)} tells (404 if it was not) before the request is posted again.`,
          members: { jobMayExist: true, jobId: id, links: { job: jobPath(id) } },
        };
  }

  /** The job's row exists; it runs once it is in the queue (reconcile queues it otherwise). */
  recorded(id: string): void {
    this.#progress = {
      advice: `Job ${id} was recorded and is queued, or will be automatically. ${
        this.hasIdempotencyKey
          ? 'Retrying with the same Idempotency-Key answers with it and queues it sooner.'
          : 'Do not post it again: without an Idempotency-Key that would create a second job.'
      }`,
      members: { jobMayExist: true, jobId: id, links: { job: jobPath(id) } },
    };
  }

  get current(): RequestProgress {
    return this.#progress;
  }
}

import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * `cancelled`: the job was queued, no worker held it, and it is cancelled now; `cancel_requested`:
 * a worker holds it (running, or still queued while its handler runs), and is told to stop.
 */
export const CANCEL_OUTCOMES = ['cancelled', 'cancel_requested'] as const;
export type CancelOutcome = (typeof CANCEL_OUTCOMES)[number];

/** What the api measures of the operations on single jobs: cancelling, and streaming events. */
export interface JobOperationMetrics {
  cancelled(outcome: CancelOutcome): void;
  /** Event streams (GET /v1/jobs/:id/events) open in this process now. */
  eventStreams: Gauge;
}

export function createJobOperationMetrics(registry: Registry): JobOperationMetrics {
  const registers = [registry];
  const cancels = new Counter({
    name: 'jobstack_job_cancels_total',
    help: 'Jobs cancelled through the API, by outcome (cancelled: it was queued and no worker held it; cancel_requested: a worker holds it and is told to stop)',
    labelNames: ['outcome'] as const,
    registers,
  });
  const eventStreams = new Gauge({
    name: 'jobstack_job_event_streams',
    help: 'Job event streams (Server-Sent Events) open in this api process',
    registers,
  });
  return {
    cancelled(outcome) {
      cancels.inc({ outcome });
    },
    eventStreams,
  };
}

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { boundedLabel } from './bounded-label.ts';
import { createParkedMetric, type ParkedMetric } from './parked-metrics.ts';

/**
 * How an attempt ended. `retried`: it failed and another attempt follows; `failed`: it failed
 * and none follows; `rejected`: the job does not match the contract or has no record, so it never
 * ran; `skipped`: a redelivered job whose record had already finished; `interrupted`: the worker
 * shut down and put it back without using an attempt; `cancelled`: a client cancelled the job
 * while it ran (or before a redelivery of it started), and it ended without a retry; `expired`:
 * the job was not started within its ttl, so it ended without running.
 */
export const JOB_OUTCOMES = [
  'succeeded',
  'retried',
  'failed',
  'rejected',
  'skipped',
  'interrupted',
  'cancelled',
  'expired',
] as const;
export type JobOutcome = (typeof JOB_OUTCOMES)[number];

/** Seconds, from a no-op job to the longest a webhook or report may reasonably take. */
const RUN_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
/** Seconds, from a worker idling on the queue to an hour of backlog. */
const WAIT_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600,
];

export interface JobMetrics {
  /** One attempt has ended: counted by type and outcome, and timed unless it never ran. */
  attemptEnded(type: string, outcome: JobOutcome, seconds?: number): void;
  /** A job started this long after it was due (its run time, or when it was enqueued). */
  started(type: string, waitSeconds: number): void;
  /** A job went back to the queue without using an attempt because PostgreSQL was unavailable. */
  postponed(type: string): void;
  /** A job waited for a concurrency or rate limit without using an attempt. */
  parked: ParkedMetric;
  /** Jobs running in this process now. */
  active: Gauge;
}

/** The worker's job metrics. `types` are the declared job types; any other name is `other`. */
export function createJobMetrics(options: {
  registry: Registry;
  types: readonly string[];
}): JobMetrics {
  const registers = [options.registry];
  const types = new Set(options.types);
  const jobs = new Counter({
    name: 'jobstack_jobs_total',
    help: 'Job attempts that ended, by type and outcome (succeeded, retried, failed, rejected, skipped, interrupted, cancelled, expired)',
    labelNames: ['type', 'outcome'] as const,
    registers,
  });
  const duration = new Histogram({
    name: 'jobstack_job_duration_seconds',
    help: 'Time from the start of an attempt to its end, by type and outcome',
    labelNames: ['type', 'outcome'] as const,
    buckets: RUN_BUCKETS,
    registers,
  });
  const wait = new Histogram({
    name: 'jobstack_job_wait_seconds',
    help: 'Time from when a job was due (its run time, or when it was enqueued) to the start of its first attempt, by type',
    labelNames: ['type'] as const,
    buckets: WAIT_BUCKETS,
    registers,
  });
  const postponed = new Counter({
    name: 'jobstack_jobs_postponed_total',
    help: 'Jobs put back without using an attempt because PostgreSQL was unavailable, by type',
    labelNames: ['type'] as const,
    registers,
  });
  const parked = createParkedMetric(options);
  const active = new Gauge({
    name: 'jobstack_jobs_active',
    help: 'Jobs running in this worker now',
    registers,
  });
  // every series exists from the start, so rate() and ratios see zeros rather than gaps
  for (const type of types) {
    for (const outcome of JOB_OUTCOMES) jobs.inc({ type, outcome }, 0);
  }
  return {
    attemptEnded(type, outcome, seconds) {
      const labels = { type: boundedLabel(type, types), outcome };
      jobs.inc(labels);
      if (seconds !== undefined) duration.observe(labels, seconds);
    },
    started(type, waitSeconds) {
      wait.observe({ type: boundedLabel(type, types) }, Math.max(0, waitSeconds));
    },
    postponed(type) {
      postponed.inc({ type: boundedLabel(type, types) });
    },
    parked,
    active,
  };
}

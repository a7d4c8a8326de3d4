import { Counter, Gauge, type Registry } from 'prom-client';

/** The BullMQ states `jobstack_queue_jobs` reports, read with `getJobCounts`. */
export const QUEUE_STATES = ['waiting', 'delayed', 'active', 'failed'] as const;
export type QueueState = (typeof QUEUE_STATES)[number];

/** What the job rows say about the backlog, in seconds; null when no row is in that state. */
export interface JobBacklog {
  /** The oldest queued job that is due: how long past its run time (or creation) it waits. */
  oldestQueuedSeconds: number | null;
  /** The running row untouched the longest: how long since it was last written. */
  oldestRunningSeconds: number | null;
}

export interface ScrapeTimeMetricsOptions {
  registry: Registry;
  /** BullMQ's counts; the api reads them from Redis with a timeout. */
  readQueue: () => Promise<Record<QueueState, number>>;
  /** From PostgreSQL, with a timeout. */
  readBacklog: () => Promise<JobBacklog>;
  /** A reading failed; the scrape still answers, without that gauge. Log it here. */
  onError: (source: 'queue' | 'database', error: unknown) => void;
}

/**
 * Gauges read from Redis and PostgreSQL when Prometheus scrapes. A slow or absent dependency
 * must not fail the whole scrape: its gauge is left empty for that scrape and
 * `jobstack_metrics_collection_failures_total{source}` counts it.
 */
export function registerScrapeTimeMetrics(options: ScrapeTimeMetricsOptions): void {
  const registers = [options.registry];
  // prom-client collects all metrics of a scrape at once: the counter waits for this scrape's
  // readings, so a failure shows in the same scrape (the gauges are registered first for that).
  const readings: Promise<void>[] = [];
  const queueJobs = new Gauge({
    name: 'jobstack_queue_jobs',
    help: 'Jobs in the BullMQ queue by state (waiting, delayed, active, failed), read at scrape time',
    labelNames: ['state'] as const,
    registers,
    collect() {
      const reading = readQueue();
      readings.push(reading);
      return reading;
    },
  });
  const oldest = new Gauge({
    name: 'jobstack_jobs_oldest_age_seconds',
    help: 'Job rows, read at scrape time: status="queued" is how long the oldest due queued job has waited; status="running" how long the running row untouched the longest has been so',
    labelNames: ['status'] as const,
    registers,
    collect() {
      const reading = readBacklog();
      readings.push(reading);
      return reading;
    },
  });
  const failures = new Counter({
    name: 'jobstack_metrics_collection_failures_total',
    help: 'Scrapes in which a gauge could not be read, by source (queue: Redis, database: PostgreSQL)',
    labelNames: ['source'] as const,
    registers,
    async collect() {
      await Promise.all(readings.splice(0));
    },
  });
  failures.inc({ source: 'queue' }, 0);
  failures.inc({ source: 'database' }, 0);

  async function readQueue(): Promise<void> {
    queueJobs.reset();
    try {
      const counts = await options.readQueue();
      for (const state of QUEUE_STATES) queueJobs.set({ state }, counts[state]);
    } catch (error) {
      failures.inc({ source: 'queue' });
      options.onError('queue', error);
    }
  }

  async function readBacklog(): Promise<void> {
    oldest.reset();
    try {
      const backlog = await options.readBacklog();
      // no row in a state is age 0: the alert compares against a threshold, and a gap would hide it
      oldest.set({ status: 'queued' }, backlog.oldestQueuedSeconds ?? 0);
      oldest.set({ status: 'running' }, backlog.oldestRunningSeconds ?? 0);
    } catch (error) {
      failures.inc({ source: 'database' });
      options.onError('database', error);
    }
  }
}

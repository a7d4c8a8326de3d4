import { Counter, Gauge, type Registry } from 'prom-client';

/** The BullMQ states `jobstack_queue_jobs` reports, read with `getJobCounts`. */
export const QUEUE_STATES = ['waiting', 'delayed', 'active', 'failed'] as const;
export type QueueState = (typeof QUEUE_STATES)[number];

/** Where a scrape-time reading comes from: BullMQ's counts, the job rows, Redis's memory. */
export const SCRAPE_SOURCES = ['queue', 'database', 'redis'] as const;
export type ScrapeSource = (typeof SCRAPE_SOURCES)[number];

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
  /** Redis's `INFO memory`, with a timeout. */
  readRedisMemory: () => Promise<{ usedBytes: number; maxBytes: number; policy: string }>;
  /** A reading failed; the scrape still answers, without that gauge. Log it here. */
  onError: (source: ScrapeSource, error: unknown) => void;
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
  const redisMemory = new Gauge({
    name: 'jobstack_redis_memory_bytes',
    help: 'Redis\'s memory, read at scrape time: kind="used" (used_memory) and kind="max" (maxmemory; 0 is no limit)',
    labelNames: ['kind'] as const,
    registers,
    collect() {
      const reading = readRedis();
      readings.push(reading);
      return reading;
    },
  });
  const policy = new Gauge({
    name: 'jobstack_redis_noeviction',
    help: "1 when Redis's maxmemory-policy is noeviction (as BullMQ needs), 0 when it may evict jobs",
    registers,
  });
  const failures = new Counter({
    name: 'jobstack_metrics_collection_failures_total',
    help: 'Scrapes in which a gauge could not be read, by source (queue and redis: Redis, database: PostgreSQL)',
    labelNames: ['source'] as const,
    registers,
    async collect() {
      await Promise.all(readings.splice(0));
    },
  });
  for (const source of SCRAPE_SOURCES) failures.inc({ source }, 0);

  async function readRedis(): Promise<void> {
    redisMemory.reset();
    policy.reset();
    try {
      const memory = await options.readRedisMemory();
      redisMemory.set({ kind: 'used' }, memory.usedBytes);
      redisMemory.set({ kind: 'max' }, memory.maxBytes);
      policy.set(memory.policy === 'noeviction' ? 1 : 0);
    } catch (error) {
      failures.inc({ source: 'redis' });
      options.onError('redis', error);
    }
  }

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

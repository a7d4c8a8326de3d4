import { Counter, type Registry } from 'prom-client';
import { boundedLabel } from './bounded-label.ts';

/**
 * Where a job was parked: `arrival`, added to the queue already parked by its enqueuer (the api,
 * or the worker's reconcile); `admission`, fetched by a worker and parked before it ran.
 */
export const PARK_PLACES = ['arrival', 'admission'] as const;
export type ParkPlace = (typeof PARK_PLACES)[number];

/** Counts a job parked for a concurrency or rate limit, by type and where it was parked. */
export type ParkedMetric = (type: string, where: ParkPlace) => void;

/**
 * `jobstack_jobs_parked_total`, in every process that parks jobs: the api parks on arrival, the
 * worker on admission and on arrival (reconcile's re-adds, its webhook deliveries). Counted where
 * they happen, so `sum by (type) (rate(...))` over all processes is every parking.
 * `types` are the declared job types; any other name is `other`.
 */
export function createParkedMetric(options: {
  registry: Registry;
  types: readonly string[];
}): ParkedMetric {
  const types = new Set(options.types);
  const parked = new Counter({
    name: 'jobstack_jobs_parked_total',
    help: 'Jobs parked for a concurrency or rate limit without using an attempt, by type and where (arrival: added parked by the enqueuer; admission: parked by a worker)',
    labelNames: ['type', 'where'] as const,
    registers: [options.registry],
  });
  // every series exists from the start, so rate() sees zeros rather than gaps
  for (const type of types) {
    for (const where of PARK_PLACES) parked.inc({ type, where }, 0);
  }
  return (type, where) => {
    parked.inc({ type: boundedLabel(type, types), where });
  };
}

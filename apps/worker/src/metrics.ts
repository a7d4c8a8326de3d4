import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface WorkerMetrics {
  completed: Counter<'type'>;
  failed: Counter<'type' | 'final'>;
  postponed: Counter<'type'>;
  parked: Counter<'type'>;
  duration: Histogram<'type' | 'result'>;
  active: Gauge;
}

export function createWorkerMetrics(registry: Registry): WorkerMetrics {
  const registers = [registry];
  return {
    completed: new Counter({
      name: 'worker_jobs_completed_total',
      help: 'Jobs that succeeded, by type',
      labelNames: ['type'] as const,
      registers,
    }),
    failed: new Counter({
      name: 'worker_jobs_failed_total',
      help: 'Failed attempts by type; final="true" when no retry follows',
      labelNames: ['type', 'final'] as const,
      registers,
    }),
    postponed: new Counter({
      name: 'worker_jobs_postponed_total',
      help: 'Jobs put back without using an attempt because PostgreSQL was unavailable, by type',
      labelNames: ['type'] as const,
      registers,
    }),
    parked: new Counter({
      name: 'worker_jobs_parked_total',
      help: 'Jobs that waited for a concurrency or rate limit without using an attempt, by type',
      labelNames: ['type'] as const,
      registers,
    }),
    duration: new Histogram({
      name: 'worker_job_duration_seconds',
      help: 'Time from start of an attempt to its end, by type and result',
      labelNames: ['type', 'result'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    active: new Gauge({ name: 'worker_jobs_active', help: 'Jobs running now', registers }),
  };
}

import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  createDbBatchSizeMetric,
  createHttpRequestMetrics,
  createJobMetrics,
  createParkedMetric,
  createWebhookDeliveryMetrics,
  exportedMetricNames,
  JOB_OUTCOMES,
  PARK_PLACES,
  registerScrapeTimeMetrics,
} from './index.ts';

/** The number of series of one metric (a histogram's buckets count once per label set). */
async function seriesOf(registry: Registry, name: string): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`${name} is not registered`);
  const { values } = await metric.get();
  const labelSets = values
    .filter((value) => !('le' in value.labels))
    .map((value) => JSON.stringify({ ...value.labels, le: undefined }));
  return new Set(labelSets).size;
}

describe('label cardinality', () => {
  it('job metrics have one series per declared type and outcome, whatever names jobs carry', async () => {
    const registry = new Registry();
    const types = ['system.echo', 'webhook.deliver'];
    const metrics = createJobMetrics({ registry, types });
    for (let i = 0; i < 500; i += 1) {
      const type = i % 3 === 0 ? 'system.echo' : `made.up-${i}`;
      metrics.attemptEnded(type, JOB_OUTCOMES[i % JOB_OUTCOMES.length] ?? 'failed', 0.01);
      metrics.started(type, i);
      metrics.postponed(type);
    }
    // the declared types plus `other`
    const bound = (types.length + 1) * JOB_OUTCOMES.length;
    expect(await seriesOf(registry, 'jobstack_jobs_total')).toBeLessThanOrEqual(bound);
    expect(await seriesOf(registry, 'jobstack_job_duration_seconds')).toBeLessThanOrEqual(bound);
    expect(await seriesOf(registry, 'jobstack_job_wait_seconds')).toBe(2);
    expect(await seriesOf(registry, 'jobstack_jobs_postponed_total')).toBe(2);
    const text = await registry.metrics();
    expect(text).toMatch(/jobstack_jobs_total\{type="other",outcome="[a-z]+"\} [1-9]/);
    expect(text).not.toContain('made.up');
  });

  it('declared types start at zero, so a failure ratio has a denominator before the first job', async () => {
    const registry = new Registry();
    createJobMetrics({ registry, types: ['system.echo'] });
    const text = await registry.metrics();
    for (const outcome of JOB_OUTCOMES) {
      expect(text).toContain(`jobstack_jobs_total{type="system.echo",outcome="${outcome}"} 0`);
    }
  });

  it('parked jobs are counted by declared type and where, from zero, in the api and the worker alike', async () => {
    const types = ['system.echo', 'webhook.deliver'];
    const worker = new Registry();
    const jobs = createJobMetrics({ registry: worker, types });
    const api = new Registry();
    const parked = createParkedMetric({ registry: api, types });
    // before any job: zeros for every declared type and place, so rate() has no gaps
    for (const where of PARK_PLACES) {
      expect(await api.metrics()).toContain(
        `jobstack_jobs_parked_total{type="webhook.deliver",where="${where}"} 0`,
      );
    }
    for (let i = 0; i < 300; i += 1) {
      const type = i % 3 === 0 ? 'system.echo' : `made.up-${i}`;
      jobs.parked(type, 'admission');
      parked(type, 'arrival');
    }
    const bound = (types.length + 1) * PARK_PLACES.length;
    expect(await seriesOf(worker, 'jobstack_jobs_parked_total')).toBeLessThanOrEqual(bound);
    expect(await seriesOf(api, 'jobstack_jobs_parked_total')).toBeLessThanOrEqual(bound);
    expect(await worker.metrics()).toContain(
      'jobstack_jobs_parked_total{type="system.echo",where="admission"} 100',
    );
    expect(await api.metrics()).toContain(
      'jobstack_jobs_parked_total{type="other",where="arrival"} 200',
    );
    // one name, one type, one help in both processes, so a query over both sees one metric
    const [inWorker] = worker.getMetricsAsArray().filter((m) => m.name.includes('parked'));
    const [inApi] = api.getMetricsAsArray().filter((m) => m.name.includes('parked'));
    expect(inApi?.help).toBe(inWorker?.help);
    expect(inApi?.type).toBe(inWorker?.type);
  });

  it('HTTP methods outside the standard ones and impossible statuses become `other`', async () => {
    const registry = new Registry();
    const http = createHttpRequestMetrics(registry);
    for (let i = 0; i < 300; i += 1) {
      http.answered({ method: `M${i}`, route: '/v1/jobs/:id', status: 1000 + i }, 0.001);
      http.answered({ method: 'GET', route: '/v1/jobs/:id', status: 200 }, 0.001);
    }
    expect(await seriesOf(registry, 'jobstack_http_request_duration_seconds')).toBe(2);
    expect(await registry.metrics()).toContain(
      'jobstack_http_request_duration_seconds_count{method="other",route="/v1/jobs/:id",status="other"} 300',
    );
  });

  it('webhook outcomes and batch sizes have fixed label sets', async () => {
    const registry = new Registry();
    const webhooks = createWebhookDeliveryMetrics(registry);
    const batch = createDbBatchSizeMetric(registry);
    webhooks.delivered('delivered', 0.2);
    webhooks.delivered('failed', 5);
    batch(1);
    batch(37);
    expect(await seriesOf(registry, 'jobstack_webhook_delivery_duration_seconds')).toBe(2);
    expect(await registry.metrics()).toMatch(/jobstack_db_batch_size_bucket\{le="50"\} 2/);
  });
});

describe('registerScrapeTimeMetrics', () => {
  it('reports the queue counts and the backlog ages read at scrape time', async () => {
    const registry = new Registry();
    registerScrapeTimeMetrics({
      registry,
      readQueue: async () => ({ waiting: 3, delayed: 1, active: 2, failed: 0 }),
      readBacklog: async () => ({ oldestQueuedSeconds: 12.5, oldestRunningSeconds: null }),
      readRedisMemory: async () => ({ usedBytes: 1024, maxBytes: 0, policy: 'allkeys-lru' }),
      onError: () => {
        throw new Error('no reading should fail');
      },
    });
    const text = await registry.metrics();
    expect(text).toContain('jobstack_queue_jobs{state="waiting"} 3');
    expect(text).toContain('jobstack_queue_jobs{state="active"} 2');
    expect(text).toContain('jobstack_jobs_oldest_age_seconds{status="queued"} 12.5');
    expect(text).toContain('jobstack_jobs_oldest_age_seconds{status="running"} 0');
    expect(text).toContain('jobstack_metrics_collection_failures_total{source="queue"} 0');
    expect(text).toContain('jobstack_redis_memory_bytes{kind="used"} 1024');
    expect(text).toContain('jobstack_redis_memory_bytes{kind="max"} 0');
    expect(text).toContain('jobstack_redis_noeviction 0');
  });

  it('a failed reading leaves its gauge empty, counts the failure in the same scrape and says why', async () => {
    const registry = new Registry();
    const errors: string[] = [];
    registerScrapeTimeMetrics({
      registry,
      readQueue: () => Promise.reject(new Error('redis down')),
      readBacklog: async () => ({ oldestQueuedSeconds: 1, oldestRunningSeconds: 2 }),
      readRedisMemory: async () => ({ usedBytes: 1, maxBytes: 2, policy: 'noeviction' }),
      onError: (source, error) => errors.push(`${source}: ${(error as Error).message}`),
    });
    const text = await registry.metrics();
    expect(text).not.toMatch(/jobstack_queue_jobs\{/);
    expect(text).toContain('jobstack_metrics_collection_failures_total{source="queue"} 1');
    expect(text).toContain('jobstack_jobs_oldest_age_seconds{status="running"} 2');
    expect(errors).toEqual(['queue: redis down']);
  });
});

describe('exportedMetricNames', () => {
  it('lists every jobstack metric with its type', () => {
    const names = exportedMetricNames();
    expect(names.get('jobstack_jobs_total')).toBe('counter');
    expect(names.get('jobstack_job_wait_seconds')).toBe('histogram');
    expect(names.get('jobstack_queue_jobs')).toBe('gauge');
    expect([...names.keys()].every((name) => name.startsWith('jobstack_'))).toBe(true);
  });
});

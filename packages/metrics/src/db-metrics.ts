import { Histogram, type Registry } from 'prom-client';

/** The group commit's statement sizes: how many calls each INSERT or UPDATE carried. */
export function createDbBatchSizeMetric(registry: Registry): (size: number) => void {
  const sizes = new Histogram({
    name: 'jobstack_db_batch_size',
    help: 'Job rows written per statement by the group commit (INSERT in the api, UPDATE in the worker)',
    buckets: [1, 2, 5, 10, 20, 50, 100],
    registers: [registry],
  });
  return (size) => sizes.observe(size);
}

import type { JobRepository } from '@repo/db';
import type { MaintenanceConfig } from '../env.ts';
import type { JobHandler } from './job-handler.ts';

export function maintenancePrune(deps: {
  config: MaintenanceConfig;
  jobs: Pick<JobRepository, 'deleteFinishedBefore'>;
}): JobHandler<'maintenance.prune'> {
  return async () => {
    const deleted = await deps.jobs.deleteFinishedBefore({
      before: new Date(Date.now() - deps.config.JOB_RETENTION),
      batchSize: deps.config.PRUNE_BATCH_SIZE,
    });
    return { deleted };
  };
}

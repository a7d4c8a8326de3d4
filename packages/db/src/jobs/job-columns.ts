import { Prisma } from '../generated/prisma/client.ts';
import { columnOf, selectListOf } from '../model-columns.ts';
import type { JobRecord } from './job-record.ts';

/** The column of each field of the model `Job` (see columnOf). */
export function jobColumnOf(field: keyof JobRecord): string {
  return columnOf(field);
}

/** The select list of a whole row, as the repository returns it (JobRecord). */
export const JOB_COLUMNS = selectListOf(Object.values(Prisma.JobScalarFieldEnum));

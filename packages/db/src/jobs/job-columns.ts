import { Prisma } from '../generated/prisma/client.ts';
import type { JobRecord } from './job-record.ts';

/**
 * The column of each field of the model `Job`: the schema maps every field to its snake_case
 * name (@map), which the schema test checks against the generated data model.
 */
export function jobColumnOf(field: keyof JobRecord): string {
  return field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/**
 * The select list of a whole row, as the repository returns it (JobRecord), from the generated
 * model's field list: `max_attempts AS "maxAttempts"`, …
 */
export const JOB_COLUMNS = Object.values(Prisma.JobScalarFieldEnum)
  .map((field) => {
    const column = jobColumnOf(field);
    return column === field ? field : `${column} AS "${field}"`;
  })
  .join(', ');

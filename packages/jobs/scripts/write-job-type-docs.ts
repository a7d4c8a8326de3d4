// Writes docs/job-types.md from the job type registry; job-type-reference.test.ts fails when it is stale.
import { writeFileSync } from 'node:fs';
import { renderJobTypeReference } from '../src/job-type-reference.ts';

const target = new URL('../../../docs/job-types.md', import.meta.url);
writeFileSync(target, renderJobTypeReference());
console.error(`wrote ${target.pathname}`);

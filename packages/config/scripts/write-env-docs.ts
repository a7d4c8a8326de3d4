// Writes docs/environment.md from the service schemas; env-reference.test.ts fails when it is stale.
import { writeFileSync } from 'node:fs';
import { renderEnvReference } from '../src/env-reference.ts';

const target = new URL('../../../docs/environment.md', import.meta.url);
writeFileSync(target, renderEnvReference());
console.error(`wrote ${target.pathname}`);

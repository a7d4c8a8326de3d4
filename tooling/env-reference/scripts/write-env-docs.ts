// Writes docs/environment.md from the services' environments; env-reference.test.ts fails when it is stale.
import { writeFileSync } from 'node:fs';
import { renderServicesEnvReference } from '../src/services.ts';

const target = new URL('../../../docs/environment.md', import.meta.url);
writeFileSync(target, renderServicesEnvReference());
console.error(`wrote ${target.pathname}`);

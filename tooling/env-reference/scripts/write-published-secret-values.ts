// Writes packages/config/src/published-secret-values.ts (the values production refuses) from the
// repository's files; published-secret-values.test.ts fails when it is stale.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  collectPublishedSecretValues,
  renderPublishedSecretValues,
} from '../src/published-secret-sources.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const target = new URL('packages/config/src/published-secret-values.ts', `file://${root}`);
writeFileSync(target, renderPublishedSecretValues(collectPublishedSecretValues(root)));
console.error(`wrote ${target.pathname}`);

// Writes src/published-secret-values.ts from the repository's files; published-secret-values.test.ts
// fails when it is stale.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  collectPublishedSecretValues,
  renderPublishedSecretValues,
} from '../src/published-secret-sources.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const target = new URL('../src/published-secret-values.ts', import.meta.url);
writeFileSync(target, renderPublishedSecretValues(collectPublishedSecretValues(root)));
console.error(`wrote ${target.pathname}`);

// Writes src/api-types.ts from the api's OpenAPI document; api-types.test.ts fails when it is stale.
import { writeFileSync } from 'node:fs';
import { renderClientApiTypes } from '@repo/openapi-typegen';

const target = new URL('../src/api-types.ts', import.meta.url);
writeFileSync(target, await renderClientApiTypes());
console.error(`wrote ${target.pathname}`);

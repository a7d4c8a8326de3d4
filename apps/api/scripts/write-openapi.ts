// Writes apps/api/openapi.json from the routes' contracts; openapi.test.ts fails when it is stale.
import { writeFileSync } from 'node:fs';
import { renderOpenApiDocument } from '../src/openapi/document.ts';

const target = new URL('../openapi.json', import.meta.url);
writeFileSync(target, renderOpenApiDocument());
console.error(`wrote ${target.pathname}`);

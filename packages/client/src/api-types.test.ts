import { readFileSync } from 'node:fs';
import { renderClientApiTypes } from '@repo/openapi-typegen';
import { describe, expect, it } from 'vitest';

describe('the API types', () => {
  it("src/api-types.ts is what the api's OpenAPI document generates (run `pnpm --filter @repo/client api-types`)", async () => {
    const committed = readFileSync(new URL('./api-types.ts', import.meta.url), 'utf8');
    expect(committed).toBe(await renderClientApiTypes());
  });
});

import { readFile } from 'node:fs/promises';
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';

/**
 * The TypeScript types of an OpenAPI document (`paths`, `components`, `operations`), as
 * openapi-typescript writes them for openapi-fetch. `regenerate` names the command that rewrites
 * the file, for the header.
 */
export async function generateOpenApiTypes(document: object, regenerate: string): Promise<string> {
  const nodes = await openapiTS(document as Parameters<typeof openapiTS>[0], {
    // a request property with a default stays optional (`?:`): the server applies the default
    defaultNonNullable: false,
  });
  return `${COMMENT_HEADER}// Regenerate with \`${regenerate}\`.\n\n${astToString(nodes)}`;
}

/** The api's committed OpenAPI document (apps/api/openapi.json, kept fresh by the api's tests). */
export const API_DOCUMENT_URL = new URL('../../../apps/api/openapi.json', import.meta.url);

/** packages/client/src/api-types.ts: the types of the api's committed document. */
export async function renderClientApiTypes(): Promise<string> {
  const document = JSON.parse(await readFile(API_DOCUMENT_URL, 'utf8')) as object;
  return generateOpenApiTypes(document, 'pnpm --filter @repo/client api-types');
}

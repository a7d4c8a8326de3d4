import { describe, expect, it } from 'vitest';
import { globToRegExp, matchesAny } from './glob.ts';

describe('path patterns', () => {
  it('match what Render build filters and Railway watch patterns mean', () => {
    expect(matchesAny('apps/api/src/main.ts', ['apps/api/**'])).toBe(true);
    expect(matchesAny('apps/api/src/main.ts', ['/apps/api/**'])).toBe(true);
    expect(matchesAny('apps/api-gateway/src/main.ts', ['apps/api/**'])).toBe(false);
    expect(matchesAny('pnpm-lock.yaml', ['/pnpm-lock.yaml'])).toBe(true);
    expect(matchesAny('packages/db/pnpm-lock.yaml', ['/pnpm-lock.yaml'])).toBe(false);
    expect(matchesAny('apps/api/src/app.test.ts', ['**/*.test.ts'])).toBe(true);
    expect(matchesAny('app.test.ts', ['**/*.test.ts'])).toBe(true);
    expect(matchesAny('apps/api/README.md', ['apps/*/README.md'])).toBe(true);
    expect(matchesAny('apps/api/src/README.md', ['apps/*/README.md'])).toBe(false);
    expect(globToRegExp('.node-version').test('xnode-version')).toBe(false);
  });
});

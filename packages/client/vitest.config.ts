import { testKindsConfig } from '@repo/testing/vitest-config';

// The kinds of test by file name, and their timeouts: tooling/testing/src/vitest-config.ts.
export default testKindsConfig();

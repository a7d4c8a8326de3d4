import { testKindsConfig } from '@repo/testing/vitest-config';

// `pnpm test`: the e2e helpers' pure parts, by kind (tooling/testing/src/vitest-config.ts).
// `pnpm test:e2e` runs the scenario against Docker with vitest.e2e.config.ts.
export default testKindsConfig();

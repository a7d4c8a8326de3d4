import { defineConfig } from 'vitest/config';

// `pnpm test:e2e`: one long, ordered scenario against Docker (see src/stack.e2e.ts).
export default defineConfig({
  test: {
    include: ['src/**/*.e2e.ts'],
    fileParallelism: false,
    testTimeout: 5 * 60_000,
    // building three images cold is the slowest step
    hookTimeout: 20 * 60_000,
    reporters: ['verbose'],
  },
});

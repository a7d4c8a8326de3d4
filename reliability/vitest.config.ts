import { defineConfig } from 'vitest/config';

// `pnpm test:reliability`: real processes, one scenario file at a time (they kill, cut and
// restart things, and measure memory), each bounded in requests and time.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 90_000,
    hookTimeout: 60_000,
    reporters: ['verbose'],
  },
});

import { PROCESS_CLEANUP_SETUP_FILE } from '@repo/testing/vitest-config';
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
    // what a scenario started is killed when it ends, even when it fails or times out
    setupFiles: [PROCESS_CLEANUP_SETUP_FILE],
  },
});

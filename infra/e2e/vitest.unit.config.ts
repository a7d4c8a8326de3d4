import { defineConfig } from 'vitest/config';

// `pnpm test` (every package's unit tests): the e2e helpers' pure parts, no Docker needed.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
  },
});

import { defineConfig } from 'vitest/config';

/**
 * The packaging checks build, pack and install real packages, so they run one file at a time with generous
 * timeouts; everything heavy happens once, in the global setup.
 */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['./test/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 600_000,
  },
});

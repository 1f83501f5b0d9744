import { defineConfig, mergeConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.ts';

export default mergeConfig(
  sharedTestConfig,
  defineConfig({
    test: {
      include: ['test/**/*.test.ts'],
      typecheck: { enabled: false },
      // Builds the site (TypeDoc + VitePress) when it is missing or older than its sources.
      globalSetup: ['test/build-site.ts'],
      // The site test drives one Chromium; the snippet tests reconfigure global settings. Neither likes company.
      fileParallelism: false,
      testTimeout: 60_000,
      hookTimeout: 240_000,
    },
  }),
);

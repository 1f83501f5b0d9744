import { defineConfig } from 'vitest/config';

/**
 * Shared test settings: resolve workspace packages through the `@dspy-ts/source` export condition so tests
 * run against `src/` without a build.
 */
export const sharedTestConfig = defineConfig({
  resolve: { conditions: ['@dspy-ts/source', 'module', 'node', 'import', 'default'] },
  ssr: {
    resolve: { conditions: ['@dspy-ts/source', 'node', 'import', 'default'], externalConditions: ['@dspy-ts/source'] },
  },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    typecheck: { enabled: true, include: ['src/**/*.test-d.ts', 'test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
    testTimeout: 30_000,
  },
});

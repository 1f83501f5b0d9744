import { defineConfig } from 'vitest/config';

/**
 * Shared test settings: resolve workspace packages through the `@dspy-ts/source` export condition so tests
 * run against `src/` without a build.
 */
export const sharedTestConfig = defineConfig({
  resolve: { conditions: ['@dspy-ts/source', 'module', 'node', 'import', 'default'] },
  // No `import` condition for SSR: it would also reach `require()` calls inside CommonJS dependencies (pg would get
  // pg-pool's ESM build and fail to extend it).
  ssr: { resolve: { conditions: ['@dspy-ts/source', 'node', 'default'], externalConditions: ['@dspy-ts/source'] } },
  // Embedded databases and WebAssembly modules can take a while to start on a loaded machine.
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    typecheck: { enabled: true, include: ['src/**/*.test-d.ts', 'test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});

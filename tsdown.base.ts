import { defineConfig, type UserConfig } from 'tsdown';

/**
 * Shared build settings for every package: ESM only, `.d.mts` types, an `exports` map written by the build
 * (with a `@dspy-ts/source` condition pointing at `src/` so tests and type-checks never wait for a build),
 * and publint on.
 */
export function packageConfig(overrides: UserConfig = {}): UserConfig {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm'],
    platform: 'node',
    target: 'node22',
    dts: true,
    sourcemap: true,
    clean: true,
    exports: { devExports: '@dspy-ts/source' },
    publint: true,
    ...overrides,
  }) as UserConfig;
}

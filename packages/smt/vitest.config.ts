import { defineConfig, mergeConfig } from 'vitest/config';
import { sharedTestConfig } from '../../vitest.shared.ts';

// The wasm kernels are compiled from AssemblyScript into a generated module; build it (a no-op when up to date)
// before any test imports it, also when vitest is run directly rather than through `npm test`.
export default mergeConfig(sharedTestConfig, defineConfig({ test: { globalSetup: ['./test/build-wasm.setup.ts'] } }));

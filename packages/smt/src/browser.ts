/**
 * Browser entry of `@dspy-ts/smt` (`@dspy-ts/smt/browser`): the gpu.js kernel backend, which runs its kernels as
 * WebGL 2 / WebGL shaders in a browser, the plain-TypeScript reference backend to compare it with, and the
 * conformance run that does the comparison. The build bundles gpu.js (its browser build) and `@dspy-ts/core`, so
 * `dist/browser.mjs` loads directly from a `<script type="module">`.
 *
 * @example
 * ```ts
 * import { createGpuJsBackend, createReferenceBackend, runConformance } from '@dspy-ts/smt/browser';
 *
 * const gpu = createGpuJsBackend({ requireMode: 'gpu' }); // throws unless a WebGL path really runs
 * const results = runConformance(gpu, createReferenceBackend(), { atol: 1e-4, rtol: 1e-3 });
 * console.log(gpu.mode, results.filter((r) => !r.ok));
 * ```
 *
 * @module
 */

export type {
  AdamParams,
  AttentionCache,
  BackendName,
  BlockIndex,
  KernelBackend,
  RopeLayout,
} from './kernels/backend.ts';
export {
  type ConformanceResult,
  conformanceCaseNames,
  createGpuJsBackend,
  type DeviceLimits,
  FLAT_INDEX_LIMIT,
  GPU_MODES,
  type GpuJsBackend,
  type GpuJsBackendOptions,
  type GpuJsMode,
  runConformance,
  type Tolerance,
} from './kernels/gpujs/index.ts';
export { KernelError } from './kernels/kernel-error.ts';
export { createReferenceBackend } from './kernels/reference/reference-backend.ts';

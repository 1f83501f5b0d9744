/**
 * The `gpujs` kernel backend (gpu.js: WebGL 2, WebGL, headless-gl, WebAssembly or JavaScript underneath).
 *
 * @module
 */

export {
  type ConformanceResult,
  conformanceCaseNames,
  runConformance,
  type Tolerance,
} from './backend-conformance.ts';
export {
  createGpuJsBackend,
  GPU_MODES,
  type GpuJsBackend,
  type GpuJsBackendOptions,
  type GpuJsMode,
} from './gpujs-backend.ts';
export type { DeviceLimits } from './limits.ts';
export { FLAT_INDEX_LIMIT } from './limits.ts';

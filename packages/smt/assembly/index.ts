/**
 * Entry point of the `@dspy-ts/smt` WebAssembly kernels. Every export works on raw byte addresses of f32 (or
 * i32/u8) data inside the shared linear memory that the JavaScript side manages; nothing here allocates.
 */
export { adamUpdate } from './adam';
export { attentionBackward, attentionForward } from './attention';
export { blockScores, blockSparseWeightGrad } from './block-sparse';
export { crossEntropy } from './cross-entropy';
export { gemm, gemmScratchBytes } from './gemm';
export { rmsnormBackward, rmsnormForward } from './rmsnorm';
export { rope } from './rope';
export { axpy } from './simd';
export { swigluBackward, swigluForward } from './swiglu';

/** First byte after the module's static data; the host places its own regions above it. */
export function heapBase(): usize {
  return __heap_base;
}

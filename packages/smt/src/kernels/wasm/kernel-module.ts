/**
 * Picks and compiles the embedded kernel binary. Both variants are embedded by `scripts/build-wasm.mjs`: relaxed
 * SIMD (fused multiply-add, about 1.5× faster GEMM on x86 with FMA) and baseline SIMD for engines that lack it.
 *
 * @module
 */
import { KernelError } from '../kernel-error.ts';
import { KERNELS_WASM_RELAXED_SIMD, KERNELS_WASM_SIMD } from './kernels-wasm.generated.ts';

/** Which build of the kernels to run. */
export type WasmKernelVariant = 'relaxed-simd' | 'simd';

function decode(base64: string): Uint8Array<ArrayBuffer> {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * Compiles the requested variant, or with `'auto'` the fastest one this engine validates. Throws a `kernel`
 * {@link KernelError} when the engine supports neither (no WebAssembly SIMD or no threads/shared memory).
 */
export async function compileKernelModule(
  variant: WasmKernelVariant | 'auto' = 'auto',
): Promise<{ module: WebAssembly.Module; variant: WasmKernelVariant }> {
  const candidates: [WasmKernelVariant, string][] =
    variant === 'auto'
      ? [
          ['relaxed-simd', KERNELS_WASM_RELAXED_SIMD],
          ['simd', KERNELS_WASM_SIMD],
        ]
      : [[variant, variant === 'relaxed-simd' ? KERNELS_WASM_RELAXED_SIMD : KERNELS_WASM_SIMD]];
  for (const [name, base64] of candidates) {
    const bytes = decode(base64);
    if (!WebAssembly.validate(bytes)) continue;
    return { module: await WebAssembly.compile(bytes), variant: name };
  }
  throw new KernelError(
    `This JavaScript engine cannot run the ${variant === 'auto' ? '' : `${variant} `}wasm kernels: they need ` +
      'WebAssembly SIMD and threads (shared memory). Use Node ≥ 22, or the reference backend.',
  );
}

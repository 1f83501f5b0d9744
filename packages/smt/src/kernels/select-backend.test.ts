import { afterEach, describe, expect, it, vi } from 'vitest';
import type { KernelBackend } from './backend.ts';
import { randomTensor } from './reference/random.ts';
import { createReferenceBackend } from './reference/reference-backend.ts';
import type { BackendFallback } from './select-backend.ts';

/** A fresh copy of the module, so that a `vi.doMock` of the wasm module applies to its dynamic import. */
async function freshSelectBackend() {
  vi.resetModules();
  return (await import('./select-backend.ts')).selectBackend;
}

afterEach(() => {
  vi.doUnmock('./wasm/wasm-backend.ts');
  vi.resetModules();
});

describe('selectBackend', () => {
  it("'reference' returns the reference kernels without loading the wasm module", async () => {
    const loaded = vi.fn();
    vi.doMock('./wasm/wasm-backend.ts', () => {
      loaded();
      return { createWasmBackend: () => Promise.reject(new Error('must not be called')) };
    });
    const selectBackend = await freshSelectBackend();
    const backend = await selectBackend('reference');
    expect(backend.name).toBe('reference');
    expect(Array.from(backend.matmul(new Float32Array([1, 2]), new Float32Array([3, 4]), 1, 2, 1))).toEqual([11]);
    expect(loaded).not.toHaveBeenCalled();
  });

  it('returns a backend instance unchanged and rejects anything else with a KernelError', async () => {
    const selectBackend = await freshSelectBackend();
    const mine = createReferenceBackend();
    await expect(selectBackend(mine)).resolves.toBe(mine);
    await expect(selectBackend('webgpu' as 'wasm')).rejects.toMatchObject({
      code: 'kernel',
      message: expect.stringMatching(/unknown backend "webgpu".*'auto', 'reference', 'wasm', 'gpujs'/),
    });
    await expect(selectBackend({ name: 'wasm' } as unknown as KernelBackend)).rejects.toMatchObject({
      code: 'kernel',
      message: expect.stringMatching(/neither/),
    });
  });

  it("'auto' selects the wasm kernels in Node, and they agree with the reference", async () => {
    const selectBackend = await freshSelectBackend();
    const onFallback = vi.fn();
    const backend = await selectBackend('auto', { wasm: { threads: 2 }, onFallback });
    try {
      expect(onFallback).not.toHaveBeenCalled();
      expect(backend.name).toBe('wasm');
      const a = randomTensor(9 * 70, 1);
      const b = randomTensor(13 * 70, 2);
      const got = backend.matmul(a, b, 9, 70, 13, { transB: true });
      const want = createReferenceBackend().matmul(a, b, 9, 70, 13, { transB: true });
      for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 4);
    } finally {
      await backend.dispose?.();
    }
  });

  it("'auto' falls back to the reference kernels with the reason when the wasm backend cannot start", async () => {
    const failure = new Error('WebAssembly SIMD is not supported by this engine');
    vi.doMock('./wasm/wasm-backend.ts', () => ({ createWasmBackend: () => Promise.reject(failure) }));
    const selectBackend = await freshSelectBackend();
    const fallbacks: BackendFallback[] = [];
    const backend = await selectBackend('auto', { onFallback: (f) => fallbacks.push(f) });
    expect(backend.name).toBe('reference');
    expect(fallbacks).toEqual([
      {
        tried: 'wasm',
        selected: 'reference',
        reason: 'the wasm backend could not be created: WebAssembly SIMD is not supported by this engine',
        cause: failure,
      },
    ]);
  });

  it("a required 'wasm' that cannot start is a KernelError naming the cause and the alternatives", async () => {
    const failure = new Error('WebAssembly SIMD is not supported by this engine');
    vi.doMock('./wasm/wasm-backend.ts', () => ({ createWasmBackend: () => Promise.reject(failure) }));
    const selectBackend = await freshSelectBackend();
    const error = await selectBackend('wasm').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'kernel', name: 'KernelError', cause: failure });
    expect((error as Error).message).toBe(
      "The 'wasm' backend is unavailable here: WebAssembly SIMD is not supported by this engine. Use 'reference', " +
        "or 'auto' to fall back to it automatically.",
    );
  });

  it("a required 'gpujs' backend that cannot run the requested mode is a KernelError", async () => {
    const selectBackend = await freshSelectBackend();
    await expect(selectBackend('gpujs', { gpujs: { mode: 'webgpu' } })).rejects.toMatchObject({
      code: 'kernel',
      message: expect.stringMatching(/^The 'gpujs' backend is unavailable here: .*synchronous/),
    });
  });
});

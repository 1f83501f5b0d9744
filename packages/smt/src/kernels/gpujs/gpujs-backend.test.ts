import { DspyError } from '@dspy-ts/core';
import { afterAll, describe, expect, it } from 'vitest';
import { KernelError } from '../kernel-error.ts';
import { mulberry32, randomTensor } from '../reference/random.ts';
import { createReferenceBackend } from '../reference/reference-backend.ts';
import { runConformance } from './backend-conformance.ts';
import { createGpuJsBackend, type GpuJsBackend } from './gpujs-backend.ts';

// gpu.js computes in float32 (the reference accumulates in float64), so values agree to float32 rounding of
// short sums: 1e-5 absolute plus 1e-4 relative.
const TOLERANCE = { atol: 1e-5, rtol: 1e-4 };
const reference = createReferenceBackend();
const backends: GpuJsBackend[] = [];

function track(backend: GpuJsBackend): GpuJsBackend {
  backends.push(backend);
  return backend;
}

afterAll(async () => {
  await Promise.all(backends.map((b) => b.dispose()));
});

describe('gpujs backend in Node', () => {
  // Without headless-gl, gpu.js runs webasm in Node; cpu is its JavaScript fallback and the mode with the
  // output-shape trap. A tiny element limit forces every tiled/chunked path (matmul tiles, block chunks, head
  // chunks, row chunks).
  const variants: Array<[string, () => GpuJsBackend]> = [
    ['auto mode', () => createGpuJsBackend()],
    ['cpu mode', () => createGpuJsBackend({ mode: 'cpu', requireMode: 'cpu' })],
    ['cpu mode, 64-element tiles', () => createGpuJsBackend({ mode: 'cpu', limits: { maxElements: 64 } })],
  ];

  for (const [label, make] of variants) {
    it(`matches the reference on every kernel (${label})`, () => {
      const backend = track(make());
      const results = runConformance(backend, reference, TOLERANCE);
      const failed = results.filter((r) => !r.ok);
      expect(failed, JSON.stringify(failed, null, 2)).toEqual([]);
      expect(results.length).toBeGreaterThan(20);
    });
  }

  it('reports the mode that actually ran, per kernel too', () => {
    const backend = track(createGpuJsBackend());
    expect(['webasm', 'cpu', 'headlessgl']).toContain(backend.mode);
    backend.matmul(new Float32Array([1, 2]), new Float32Array([3, 4]), 1, 2, 1);
    backend.swigluForward(new Float32Array([1]), new Float32Array([1]));
    expect(backend.kernelModes()).toEqual({ matmulNN: backend.mode, swigluForward: backend.mode });
  });

  it('refuses a GPU requirement it cannot meet, with a kernel error naming both modes', () => {
    let caught: unknown;
    try {
      createGpuJsBackend({ requireMode: 'webgl2' });
    } catch (error) {
      caught = error;
    }
    expect(KernelError.isInstance(caught)).toBe(true);
    expect(DspyError.isInstance(caught) && caught.code).toBe('kernel');
    expect(String((caught as Error).message)).toMatch(/required mode 'webgl2' but gpu\.js runs '(webasm|cpu)'/);
    expect(() => createGpuJsBackend({ requireMode: 'gpu' })).toThrow(/one of 'webgl2', 'webgl', 'headlessgl'/);
  });

  it('rejects modes whose kernels return Promises', () => {
    expect(() => createGpuJsBackend({ mode: 'webgpu' })).toThrow(/synchronous/);
    expect(() => createGpuJsBackend({ mode: 'async' })).toThrow(/synchronous/);
  });

  it('keeps results right when one kernel family alternates between shapes (cpu mode)', () => {
    const backend = track(createGpuJsBackend({ mode: 'cpu' }));
    const shapes: Array<[number, number, number]> = [
      [4, 3, 6],
      [9, 3, 2],
      [4, 3, 6],
      [9, 3, 2],
    ];
    shapes.forEach(([m, k, n], i) => {
      const a = randomTensor(m * k, mulberry32(i % 2));
      const b = randomTensor(k * n, mulberry32(10 + (i % 2)));
      const got = backend.matmul(a, b, m, k, n);
      const want = reference.matmul(a, b, m, k, n);
      expect(got.length).toBe(m * n);
      for (let j = 0; j < want.length; j++) expect(Math.abs(got[j]! - want[j]!)).toBeLessThan(1e-5);
    });
  });

  it('loops past 1000 iterations (sizes are compile-time constants, not capped arguments)', () => {
    const backend = track(createGpuJsBackend());
    const k = 1500;
    const a = new Float32Array(k).fill(1);
    const b = new Float32Array(k).fill(1);
    expect(Array.from(backend.matmul(a, b, 1, k, 1))).toEqual([1500]);
    const logits = new Float32Array(1200);
    logits[1100] = 10;
    const ce = backend.crossEntropy(logits, Int32Array.from([1100]), 1, 1200);
    expect(ce.loss).toBeCloseTo(reference.crossEntropy(logits, Int32Array.from([1100]), 1, 1200).loss, 4);
  });

  it('validates shapes with kernel errors', () => {
    const backend = track(createGpuJsBackend({ mode: 'cpu' }));
    expect(() => backend.matmul(new Float32Array(5), new Float32Array(6), 2, 3, 2)).toThrow(
      /'a' must hold at least 6 values/,
    );
    expect(() => backend.matmul(new Float32Array(6), new Float32Array(6), 2, 3, 2, { accumulate: true })).toThrow(
      /accumulate/,
    );
    expect(() =>
      backend.blockSparseWeightGrad(
        new Float32Array(8),
        new Float32Array(8),
        2,
        4,
        4,
        [{ rowBlock: 1, colBlock: 0 }],
        4,
      ),
    ).toThrow(/lies outside/);
    expect(() => backend.crossEntropy(new Float32Array(4), Int32Array.from([2, 5]), 2, 2)).toThrow(
      /outside the vocabulary/,
    );
    expect(() =>
      backend.attentionForward(new Float32Array(8), new Float32Array(8), new Float32Array(8), 2, 1, 2, 2, 2),
    ).toThrow(/S \(1\) must be at least T \(2\)/);
  });

  it('fails loudly once disposed', async () => {
    const backend = createGpuJsBackend({ mode: 'cpu' });
    await backend.dispose();
    expect(() => backend.swigluForward(new Float32Array([1]), new Float32Array([1]))).toThrow(/disposed/);
  });
});

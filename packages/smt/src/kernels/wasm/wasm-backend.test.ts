import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdamParams, BlockIndex, KernelBackend } from '../backend.ts';
import { KernelError } from '../kernel-error.ts';
import { mulberry32, randomTensor } from '../reference/random.ts';
import { createReferenceBackend } from '../reference/reference-backend.ts';
import { createWasmBackend, type WasmBackend, type WasmBackendOptions } from './wasm-backend.ts';

/** Unit roundoff of float32. */
const U = 2 ** -24;

const reference = createReferenceBackend();

function tensor(length: number, seed: number, scale = 1): Float32Array {
  return randomTensor(length, mulberry32(seed), { scale });
}

function abs(x: Float32Array): Float32Array {
  return x.map(Math.abs);
}

/**
 * Asserts |actual − expected| ≤ bound[i] + U·|expected| element-wise, naming the first offender. `bound` carries
 * the rounding budget of the computation (for a dot product of length k: about k·U·Σ|a||b|).
 */
function expectWithin(actual: ArrayLike<number>, expected: ArrayLike<number>, bound: (i: number) => number) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(actual[i]! - expected[i]!);
    const allowed = bound(i) + U * Math.abs(expected[i]!);
    if (!(diff <= allowed)) {
      throw new Error(`index ${i}: got ${actual[i]}, expected ${expected[i]} (|diff| ${diff} > ${allowed})`);
    }
  }
}

/** Element-wise |actual − expected| ≤ atol + rtol·|expected|. */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol: number) {
  expectWithin(actual, expected, (i) => atol + rtol * Math.abs(expected[i]!));
}

/**
 * Float32 GEMM error budget: with k products summed in any order, |error| ≤ γ_k·Σ|a||b| where γ_k ≈ k·U. The
 * factor 1.01 covers the γ_k = kU/(1−kU) correction; a wrong index or a missed term is off by O(|a||b|) instead.
 */
function gemmBudget(k: number, absProduct: Float32Array): (i: number) => number {
  return (i) => 1.01 * Math.max(k, 1) * U * absProduct[i]! + 1e-30;
}

interface Setup {
  label: string;
  options: WasmBackendOptions;
}

// `parallelThreshold: 0` splits even tiny products, so the test shapes exercise the thread partitioning.
const setups: Setup[] = [
  { label: '1 thread', options: { threads: 1 } },
  { label: '2 threads', options: { threads: 2, parallelThreshold: 0 } },
  { label: '1 thread, baseline SIMD', options: { threads: 1, variant: 'simd' } },
];

describe.each(setups)('wasm backend ($label)', ({ options }) => {
  let backend: WasmBackend;
  beforeAll(async () => {
    backend = await createWasmBackend(options);
  });
  afterAll(async () => {
    await backend.dispose();
  });

  it('reports its name, thread count and kernel build', () => {
    expect(backend.name).toBe('wasm');
    expect(backend.mode).toBe('wasm');
    expect(backend.threads).toBe(options.threads);
    if (options.variant) expect(backend.variant).toBe(options.variant);
  });

  // Ragged sizes around the micro-tile (4×8) and the packing blocks (MC 128, KC 256, NC 512).
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [3, 5, 7],
    [17, 33, 9],
    [130, 261, 70],
    [6, 300, 530],
    [129, 7, 13],
  ];
  for (const [m, k, n] of shapes) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        it(`matmul ${transA ? 'T' : 'N'}${transB ? 'T' : 'N'} ${m}×${k}×${n} matches the reference`, () => {
          const seed = m * 1_000_003 + k * 1_009 + n + (transA ? 7 : 0) + (transB ? 13 : 0);
          const a = tensor(m * k, seed);
          const b = tensor(k * n, seed + 1);
          const got = backend.matmul(a, b, m, k, n, { transA, transB });
          const want = reference.matmul(a, b, m, k, n, { transA, transB });
          const absProduct = reference.matmul(abs(a), abs(b), m, k, n, { transA, transB });
          expectWithin(got, want, gemmBudget(k, absProduct));
        });
      }
    }
  }

  it('matmul accumulates into out and returns it', () => {
    const [m, k, n] = [37, 45, 29];
    const a = tensor(k * m, 1);
    const b = tensor(n * k, 2);
    const start = tensor(m * n, 3);
    const out = start.slice();
    const returned = backend.matmul(a, b, m, k, n, { transA: true, transB: true, out, accumulate: true });
    expect(returned).toBe(out);
    const want = reference.matmul(a, b, m, k, n, { transA: true, transB: true, out: start.slice(), accumulate: true });
    const absProduct = reference.matmul(abs(a), abs(b), m, k, n, { transA: true, transB: true });
    expectWithin(out, want, (i) => gemmBudget(k, absProduct)(i) + U * Math.abs(start[i]!));
  });

  it('matmul overwrites a given out without accumulate, and k = 0 gives zeros', () => {
    const out = new Float32Array(6).fill(9);
    backend.matmul(tensor(6, 4), tensor(9, 5), 2, 3, 3, { out });
    expectWithin(out, reference.matmul(tensor(6, 4), tensor(9, 5), 2, 3, 3), () => 1e-6);
    expect(Array.from(backend.matmul(new Float32Array(0), new Float32Array(0), 2, 0, 3))).toEqual([0, 0, 0, 0, 0, 0]);
    const kept = new Float32Array([1, 2]);
    backend.matmul(new Float32Array(0), new Float32Array(0), 1, 0, 2, { out: kept, accumulate: true });
    expect(Array.from(kept)).toEqual([1, 2]);
  });

  it('blockSparseWeightGrad matches the reference, including duplicate and ragged edge blocks', () => {
    const [m, outDim, inDim, bs] = [37, 100, 72, 16];
    const g = tensor(m * outDim, 10);
    const x = tensor(m * inDim, 11);
    const blocks: BlockIndex[] = [
      { rowBlock: 0, colBlock: 0 },
      { rowBlock: 3, colBlock: 2 },
      { rowBlock: 6, colBlock: 1 }, // rows 96..111 of 100: ragged
      { rowBlock: 2, colBlock: 4 }, // cols 64..79 of 72: ragged
      { rowBlock: 3, colBlock: 2 },
      { rowBlock: 5, colBlock: 3 },
    ];
    const got = backend.blockSparseWeightGrad(g, x, m, outDim, inDim, blocks, bs);
    const want = reference.blockSparseWeightGrad(g, x, m, outDim, inDim, blocks, bs);
    const absWant = reference.blockSparseWeightGrad(abs(g), abs(x), m, outDim, inDim, blocks, bs);
    expectWithin(got, want, gemmBudget(m, absWant));
    expect(backend.blockSparseWeightGrad(g, x, m, outDim, inDim, [], bs)).toHaveLength(0);
  });

  it('blockSparseWeightGrad equals the matching blocks of the dense weight gradient', () => {
    const [m, outDim, inDim, bs] = [64, 128, 96, 32];
    const g = tensor(m * outDim, 12);
    const x = tensor(m * inDim, 13);
    const dense = backend.matmul(g, x, outDim, m, inDim, { transA: true });
    const blocks: BlockIndex[] = [
      { rowBlock: 1, colBlock: 2 },
      { rowBlock: 3, colBlock: 0 },
    ];
    const sparse = backend.blockSparseWeightGrad(g, x, m, outDim, inDim, blocks, bs);
    blocks.forEach(({ rowBlock, colBlock }, b) => {
      for (let i = 0; i < bs; i++) {
        for (let j = 0; j < bs; j++) {
          const d = dense[(rowBlock * bs + i) * inDim + colBlock * bs + j]!;
          expect(Math.abs(sparse[b * bs * bs + i * bs + j]! - d)).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(d)));
        }
      }
    });
  });

  it('reads resident inputs (from allocate) in place, with the same results as plain arrays', () => {
    const [m, outDim, inDim, bs] = [300, 128, 96, 32];
    const g = tensor(m * outDim, 60);
    const x = tensor(m * inDim, 61);
    const blocks: BlockIndex[] = [
      { rowBlock: 1, colBlock: 2 },
      { rowBlock: 3, colBlock: 0 },
      { rowBlock: 1, colBlock: 1 },
    ];
    const rg = backend.allocate(m * outDim);
    const rx = backend.allocate(m * inDim + 8);
    try {
      expect(Array.from(rg.subarray(0, 4))).toEqual([0, 0, 0, 0]);
      rg.set(g);
      rx.set(x, 8); // a subarray of a resident array is resident too
      const rxView = rx.subarray(8);
      expect(backend.isResident(rg) && backend.isResident(rxView)).toBe(true);
      expect(backend.isResident(g)).toBe(false);
      const want = backend.blockSparseWeightGrad(g, x, m, outDim, inDim, blocks, bs);
      expect(backend.blockSparseWeightGrad(rg, rxView, m, outDim, inDim, blocks, bs)).toEqual(want);
      expect(backend.blockSparseWeightGrad(rg, x, m, outDim, inDim, blocks, bs)).toEqual(want);
      expect(backend.matmul(rg, rxView, outDim, m, inDim, { transA: true })).toEqual(
        backend.matmul(g, x, outDim, m, inDim, { transA: true }),
      );
      const weight = tensor(inDim, 62);
      const plain = backend.rmsnormForward(x, weight, m, inDim, 1e-5);
      const resident = backend.rmsnormForward(rxView, weight, m, inDim, 1e-5);
      expect(resident.y).toEqual(plain.y);
      // The inputs are left as they were, and outputs are plain arrays.
      expect(rg).toEqual(g);
      expect(backend.isResident(resident.y)).toBe(false);
    } finally {
      backend.release(rg);
      backend.release(rx);
    }
  });

  it('blockSparseWeightGrad rejects a block that starts outside the weight', () => {
    const g = tensor(4 * 32, 1);
    const x = tensor(4 * 32, 2);
    expect(() => backend.blockSparseWeightGrad(g, x, 4, 32, 32, [{ rowBlock: 2, colBlock: 0 }], 16)).toThrow(
      KernelError,
    );
  });

  it('blockScores matches the reference', () => {
    const [rows, cols, bs] = [48, 80, 16];
    const w = tensor(rows * cols, 14);
    const got = backend.blockScores(w, rows, cols, bs);
    const want = reference.blockScores(w, rows, cols, bs);
    expectClose(got.meanAbs, want.meanAbs, 1e-7, 1e-5);
    expectClose(got.absMean, want.absMean, 1e-6, 1e-4);
  });

  it('rmsnorm forward and backward match the reference', () => {
    const [T, D] = [7, 37];
    const x = tensor(T * D, 15);
    const w = tensor(D, 16);
    const dy = tensor(T * D, 17);
    const got = backend.rmsnormForward(x, w, T, D, 1e-5);
    const want = reference.rmsnormForward(x, w, T, D, 1e-5);
    expectClose(got.y, want.y, 1e-6, 1e-5);
    expectClose(got.invRms, want.invRms, 1e-7, 1e-6);
    const gotB = backend.rmsnormBackward(dy, x, w, want.invRms, T, D);
    const wantB = reference.rmsnormBackward(dy, x, w, want.invRms, T, D);
    expectClose(gotB.dx, wantB.dx, 1e-5, 1e-4);
    expectClose(gotB.dWeight, wantB.dWeight, 1e-5, 1e-4);
  });

  for (const layout of ['interleaved', 'rotate-half'] as const) {
    it(`rope (${layout}) matches the reference and its inverse undoes it`, () => {
      const [T, H, hd, pos0] = [6, 3, 10, 500];
      const x = tensor(T * H * hd, 18);
      const got = x.slice();
      const want = x.slice();
      backend.rope(got, T, H, hd, pos0, { layout, base: 10_000 });
      reference.rope(want, T, H, hd, pos0, { layout, base: 10_000 });
      expectClose(got, want, 1e-6, 1e-5);
      backend.rope(got, T, H, hd, pos0, { layout, inverse: true });
      expectClose(got, x, 1e-5, 1e-5);
    });
  }

  it('causal GQA attention forward (with cached keys) and backward match the reference', () => {
    const [T, S, H, KV, hd] = [5, 9, 4, 2, 12];
    const q = tensor(T * H * hd, 19);
    const k = tensor(S * KV * hd, 20);
    const v = tensor(S * KV * hd, 21);
    const got = backend.attentionForward(q, k, v, T, S, H, KV, hd);
    const want = reference.attentionForward(q, k, v, T, S, H, KV, hd);
    expectClose(got.out, want.out, 1e-6, 1e-5);
    expectClose(got.cache.probs, want.cache.probs, 1e-7, 1e-5);

    const [Tb, Hb, KVb, hdb] = [11, 6, 2, 8];
    const qb = tensor(Tb * Hb * hdb, 22);
    const kb = tensor(Tb * KVb * hdb, 23);
    const vb = tensor(Tb * KVb * hdb, 24);
    const dOut = tensor(Tb * Hb * hdb, 25);
    const fwd = reference.attentionForward(qb, kb, vb, Tb, Tb, Hb, KVb, hdb);
    const gotB = backend.attentionBackward(dOut, qb, kb, vb, fwd.cache, Tb, Hb, KVb, hdb);
    const wantB = reference.attentionBackward(dOut, qb, kb, vb, fwd.cache, Tb, Hb, KVb, hdb);
    expectClose(gotB.dq, wantB.dq, 1e-5, 1e-4);
    expectClose(gotB.dk, wantB.dk, 1e-5, 1e-4);
    expectClose(gotB.dv, wantB.dv, 1e-5, 1e-4);
  });

  it('swiglu forward and backward match the reference', () => {
    const n = 203;
    const gate = tensor(n, 26, 6);
    const up = tensor(n, 27);
    const dh = tensor(n, 28);
    expectClose(backend.swigluForward(gate, up), reference.swigluForward(gate, up), 1e-6, 1e-5);
    const got = backend.swigluBackward(dh, gate, up);
    const want = reference.swigluBackward(dh, gate, up);
    expectClose(got.dGate, want.dGate, 1e-6, 1e-5);
    expectClose(got.dUp, want.dUp, 1e-6, 1e-5);
  });

  it('crossEntropy matches the reference with and without a mask, and with every row masked', () => {
    const [T, V] = [9, 53];
    const logits = tensor(T * V, 29, 4);
    const rng = mulberry32(30);
    const targets = Int32Array.from({ length: T }, () => Math.floor(rng() * V));
    const mask = Uint8Array.from([1, 0, 1, 1, 0, 0, 1, 1, 1]);
    for (const m of [undefined, mask, new Uint8Array(T)]) {
      const got = backend.crossEntropy(logits, targets, T, V, m);
      const want = reference.crossEntropy(logits, targets, T, V, m);
      expect(got.count).toBe(want.count);
      expect(Math.abs(got.loss - want.loss)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(want.loss)));
      expectClose(got.dLogits, want.dLogits, 1e-7, 1e-5);
    }
    const bad = targets.slice();
    bad[2] = V;
    expect(() => backend.crossEntropy(logits, bad, T, V, mask)).toThrow(KernelError);
    // A masked-out row may carry any target (e.g. an ignore index).
    bad[2] = 0;
    bad[1] = -100;
    expect(() => backend.crossEntropy(logits, bad, T, V, mask)).not.toThrow();
  });

  const adam: AdamParams = { lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, step: 4 };

  it('adamUpdate matches the reference', () => {
    const n = 101;
    const run = (be: KernelBackend) => {
      const param = tensor(n, 31);
      const m = tensor(n, 32, 0.1);
      const v = abs(tensor(n, 33, 0.01));
      be.adamUpdate(param, tensor(n, 34), m, v, adam);
      return [param, m, v];
    };
    const got = run(backend);
    const want = run(reference);
    for (let i = 0; i < 3; i++) expectClose(got[i]!, want[i]!, 1e-7, 1e-6);
  });

  it('adamUpdateBlocks changes only the selected blocks, like the reference (ragged and repeated blocks too)', () => {
    const [rows, cols, bs] = [40, 36, 16];
    const blocks: BlockIndex[] = [
      { rowBlock: 0, colBlock: 1 },
      { rowBlock: 2, colBlock: 2 }, // ragged in both directions
      { rowBlock: 1, colBlock: 0 },
    ];
    for (const list of [blocks, [...blocks, { rowBlock: 0, colBlock: 1 }]]) {
      const packed = list.length * bs * bs;
      const run = (be: KernelBackend) => {
        const param = tensor(rows * cols, 35);
        const m = tensor(packed, 36, 0.1);
        const v = abs(tensor(packed, 37, 0.01));
        be.adamUpdateBlocks(param, cols, list, bs, tensor(packed, 38), m, v, adam);
        return [param, m, v];
      };
      const got = run(backend);
      const want = run(reference);
      for (let i = 0; i < 3; i++) expectClose(got[i]!, want[i]!, 1e-7, 1e-6);
    }
  });

  it('throws KernelError for inconsistent shapes', () => {
    expect(() => backend.matmul(new Float32Array(5), new Float32Array(6), 2, 3, 2)).toThrow(KernelError);
    expect(() => backend.matmul(new Float32Array(6), new Float32Array(6), 2, 3, 2, { accumulate: true })).toThrow(
      /accumulate/,
    );
    expect(() =>
      backend.attentionForward(new Float32Array(8), new Float32Array(8), new Float32Array(8), 2, 2, 3, 2, 2),
    ).toThrow(KernelError);
  });
});

describe('wasm backend lifecycle', () => {
  it('splits large products across threads with the same result as one thread', async () => {
    const [one, two] = await Promise.all([createWasmBackend({ threads: 1 }), createWasmBackend({ threads: 2 })]);
    try {
      const [m, k, n] = [160, 192, 144]; // above the default parallel threshold
      const a = tensor(m * k, 40);
      const b = tensor(k * n, 41);
      // Every thread runs the same blocked summation order, so the split is bit-for-bit invisible.
      expect(two.matmul(a, b, m, k, n)).toEqual(one.matmul(a, b, m, k, n));
      const blocks = Array.from({ length: 9 }, (_, i) => ({ rowBlock: i % 4, colBlock: (i * 3) % 4 }));
      // The block-sparse gradient splits its reduction over rows into 256-row panels, one slice per thread,
      // and adds the partials in row order: with one panel per worker that is the single-threaded summation.
      const rows = 512;
      const g = tensor(rows * 256, 42);
      const x = tensor(rows * 256, 43);
      expect(two.blockSparseWeightGrad(g, x, rows, 256, 256, blocks, 64)).toEqual(
        one.blockSparseWeightGrad(g, x, rows, 256, 256, blocks, 64),
      );
    } finally {
      await Promise.all([one.dispose(), two.dispose()]);
    }
  });

  it('splits the block-sparse gradient over rows on any thread count, matching one thread to rounding', async () => {
    const backends = await Promise.all(
      [1, 2, 3].map((threads) => createWasmBackend({ threads, parallelThreshold: 0 })),
    );
    try {
      const [outDim, inDim, bs] = [100, 80, 16];
      const blocks = [
        { rowBlock: 6, colBlock: 4 }, // rows 96..111 of 100: ragged
        { rowBlock: 0, colBlock: 0 },
        { rowBlock: 2, colBlock: 1 },
        { rowBlock: 5, colBlock: 4 },
      ];
      for (const rows of [100, 700, 1300]) {
        const g = tensor(rows * outDim, 50 + rows);
        const x = tensor(rows * inDim, 51 + rows);
        const want = reference.blockSparseWeightGrad(g, x, rows, outDim, inDim, blocks, bs);
        const absWant = reference.blockSparseWeightGrad(abs(g), abs(x), rows, outDim, inDim, blocks, bs);
        for (const backend of backends) {
          const got = backend.blockSparseWeightGrad(g, x, rows, outDim, inDim, blocks, bs);
          expectWithin(got, want, gemmBudget(rows, absWant));
          // The same thread count always gives the same bits.
          expect(backend.blockSparseWeightGrad(g, x, rows, outDim, inDim, blocks, bs)).toEqual(got);
        }
      }
    } finally {
      await Promise.all(backends.map((backend) => backend.dispose()));
    }
  });

  it('grows its memory for large calls and keeps working afterwards', async () => {
    const backend = await createWasmBackend({ threads: 1 });
    try {
      const n = 1500; // 3 × 9 MB of operands: beyond the initial 16 MiB heap
      const a = tensor(n * n, 44);
      const b = new Float32Array(n * n);
      for (let i = 0; i < n; i++) b[i * n + i] = 1;
      expect(backend.matmul(a, b, n, n, n)).toEqual(a);
      expectClose(
        backend.swigluForward(tensor(5, 45), tensor(5, 46)),
        reference.swigluForward(tensor(5, 45), tensor(5, 46)),
        1e-6,
        1e-5,
      );
    } finally {
      await backend.dispose();
    }
  });

  it('keeps resident arrays intact across calls and memory growth, reuses freed space, and rejects stale ones', async () => {
    const backend = await createWasmBackend({ threads: 2, parallelThreshold: 0 });
    try {
      const a = backend.allocate(1000);
      const b = backend.allocate(3000);
      const c = backend.allocate(500);
      const values = tensor(3000, 70);
      b.set(values);
      // Calls use the memory above the resident arrays, and a call this large grows it.
      const n = 1500;
      const big = tensor(n * n, 71);
      const eye = new Float32Array(n * n);
      for (let i = 0; i < n; i++) eye[i * n + i] = 1;
      expect(backend.matmul(big, eye, n, n, n)).toEqual(big);
      expect(b).toEqual(values);
      expect(backend.swigluForward(b, b)).toEqual(backend.swigluForward(values, values));

      // Freed neighbours coalesce: a and b together make room for 4000 values at a's address.
      backend.release(b);
      backend.release(a);
      const ab = backend.allocate(4000);
      expect(ab.byteOffset).toBe(a.byteOffset);
      expect(Array.from(ab.subarray(1000, 1004))).toEqual([0, 0, 0, 0]); // zero-filled again

      // A released array is refused by kernels and by a second release instead of reading reused memory.
      backend.release(c);
      expect(() => backend.swigluForward(c, c)).toThrow(/released/);
      expect(() => backend.release(c)).toThrow(KernelError);
      expect(() => backend.release(new Float32Array(4))).toThrow(/does not live in its memory/);
      expect(() => backend.release(ab.subarray(16))).toThrow(/not the start of a live allocation/);
      backend.release(ab);
      // With everything freed the region is empty again: the next allocation starts where the first did.
      expect(backend.allocate(10).byteOffset).toBe(a.byteOffset);
    } finally {
      await backend.dispose();
    }
  });

  it('refuses calls after dispose', async () => {
    const backend = await createWasmBackend({ threads: 2 });
    await backend.dispose();
    expect(() => backend.matmul(new Float32Array(1), new Float32Array(1), 1, 1, 1)).toThrow(/disposed/);
  });

  it('rejects an invalid thread count', async () => {
    await expect(createWasmBackend({ threads: 0 })).rejects.toThrow(KernelError);
  });
});

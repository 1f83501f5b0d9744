/**
 * A conformance run of one {@link KernelBackend} against another (normally the reference backend): every kernel,
 * forward and backward, on small random tensors with ragged shapes. It runs unchanged under Node (vitest) and
 * inside a browser page, so the same checks cover gpu.js's JavaScript/WebAssembly backends and real shaders.
 *
 * @module
 */

import type { AdamParams, BlockIndex, KernelBackend } from '../backend.ts';
import { mulberry32, randomTensor } from '../reference/random.ts';

/** Tolerance of a comparison: |actual − expected| ≤ atol + rtol · |expected| per element. */
export interface Tolerance {
  /** Absolute part. */
  atol: number;
  /** Relative part. */
  rtol: number;
}

/** Outcome of one conformance case. */
export interface ConformanceResult {
  /** Case name, e.g. `matmul NT 7x13x5`. */
  name: string;
  /** Largest |actual − expected| over all compared values. */
  maxAbsError: number;
  /** Largest |actual − expected| / (atol + rtol·|expected|); the case passes when this is ≤ 1. */
  worstRatio: number;
  /** Whether every value is within tolerance (and no value is NaN). */
  ok: boolean;
  /** Why the case failed to run, when the candidate threw. */
  error?: string;
}

interface Case {
  name: string;
  run(backend: KernelBackend): ArrayLike<number>[];
}

const ADAM: AdamParams = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 3 };

function tensor(length: number, seed: number, scale = 1): Float32Array {
  return randomTensor(length, mulberry32(seed), { scale });
}

function cases(): Case[] {
  const list: Case[] = [];
  const matmulShapes: Array<[number, number, number]> = [
    [7, 13, 5],
    [3, 4, 9],
    [7, 13, 5],
    [1, 1, 1],
  ];
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      // Shape A, then B, then A again: a kernel reused across output sizes returns stale-shaped results in
      // gpu.js's cpu mode, so the repeat must come out right too.
      matmulShapes.forEach(([m, k, n], i) => {
        const a = tensor(m * k, 11 + i);
        const b = tensor(k * n, 23 + i);
        list.push({
          name: `matmul ${transA ? 'T' : 'N'}${transB ? 'T' : 'N'} ${m}x${k}x${n} (#${i})`,
          run: (be) => [be.matmul(a, b, m, k, n, { transA, transB })],
        });
      });
    }
  }
  {
    const [m, k, n] = [5, 6, 4];
    const a = tensor(m * k, 31);
    const b = tensor(n * k, 32);
    const start = tensor(m * n, 33);
    list.push({
      name: 'matmul NT accumulate into out',
      run: (be) => {
        const out = start.slice();
        const returned = be.matmul(a, b, m, k, n, { transB: true, out, accumulate: true });
        return [out, returned];
      },
    });
  }
  {
    // Wider than any texture side (16384): gpu.js rejects a true 2-D output this wide.
    const [m, k, n] = [2, 3, 20000];
    const a = tensor(m * k, 34);
    const b = tensor(n * k, 35);
    list.push({ name: `matmul NT wide ${m}x${k}x${n}`, run: (be) => [be.matmul(a, b, m, k, n, { transB: true })] });
  }
  {
    const [m, outDim, inDim, bs] = [6, 10, 7, 4];
    const g = tensor(m * outDim, 41);
    const x = tensor(m * inDim, 42);
    // Includes a repeated block and ragged edge blocks (row block 2 covers rows 8..11 of 10).
    const blocks: BlockIndex[] = [
      { rowBlock: 0, colBlock: 0 },
      { rowBlock: 2, colBlock: 1 },
      { rowBlock: 1, colBlock: 0 },
      { rowBlock: 2, colBlock: 1 },
      { rowBlock: 0, colBlock: 1 },
    ];
    list.push({
      name: 'blockSparseWeightGrad ragged',
      run: (be) => [be.blockSparseWeightGrad(g, x, m, outDim, inDim, blocks, bs)],
    });
  }
  {
    const [rows, cols, bs] = [8, 12, 4];
    const matrix = tensor(rows * cols, 51);
    list.push({
      name: 'blockScores',
      run: (be) => {
        const { meanAbs, absMean } = be.blockScores(matrix, rows, cols, bs);
        return [meanAbs, absMean];
      },
    });
  }
  {
    const [T, D] = [5, 9];
    const x = tensor(T * D, 61, 2);
    const w = tensor(D, 62);
    const dy = tensor(T * D, 63);
    list.push({
      name: 'rmsnorm forward + backward',
      run: (be) => {
        const { y, invRms } = be.rmsnormForward(x, w, T, D, 1e-5);
        const { dx, dWeight } = be.rmsnormBackward(dy, x, w, invRms, T, D);
        return [y, invRms, dx, dWeight];
      },
    });
  }
  for (const layout of ['interleaved', 'rotate-half'] as const) {
    for (const inverse of [false, true]) {
      const [T, H, hd, pos0] = [4, 3, 6, 37];
      const x = tensor(T * H * hd, 71);
      list.push({
        name: `rope ${layout}${inverse ? ' inverse' : ''}`,
        run: (be) => {
          const copy = x.slice();
          be.rope(copy, T, H, hd, pos0, { layout, inverse, base: 500 });
          return [copy];
        },
      });
    }
  }
  {
    const [T, S, H, Hkv, hd] = [3, 5, 4, 2, 5];
    const q = tensor(T * H * hd, 81);
    const k = tensor(S * Hkv * hd, 82);
    const v = tensor(S * Hkv * hd, 83);
    list.push({
      name: 'attention forward S > T (kv cache), GQA',
      run: (be) => {
        const { out, cache } = be.attentionForward(q, k, v, T, S, H, Hkv, hd);
        return [out, cache.probs];
      },
    });
  }
  {
    const [T, H, Hkv, hd] = [4, 8, 2, 2];
    const q = tensor(T * H * hd, 91);
    const k = tensor(T * Hkv * hd, 92);
    const v = tensor(T * Hkv * hd, 93);
    const dOut = tensor(T * H * hd, 94);
    list.push({
      name: 'attention forward + backward, GQA 8:2',
      run: (be) => {
        const { out, cache } = be.attentionForward(q, k, v, T, T, H, Hkv, hd);
        const { dq, dk, dv } = be.attentionBackward(dOut, q, k, v, cache, T, H, Hkv, hd);
        return [out, cache.probs, dq, dk, dv];
      },
    });
  }
  {
    const gate = tensor(37, 101, 6);
    const up = tensor(37, 102);
    const dh = tensor(37, 103);
    list.push({
      name: 'swiglu forward + backward',
      run: (be) => {
        const h = be.swigluForward(gate, up);
        const { dGate, dUp } = be.swigluBackward(dh, gate, up);
        return [h, dGate, dUp];
      },
    });
  }
  {
    const [T, V] = [6, 11];
    const logits = tensor(T * V, 111, 4);
    const targets = Int32Array.from([3, 0, 10, 7, 7, 1]);
    const mask = Uint8Array.from([1, 0, 1, 1, 0, 1]);
    list.push({
      name: 'crossEntropy with mask',
      run: (be) => {
        const r = be.crossEntropy(logits, targets, T, V, mask);
        return [[r.loss, r.count], r.dLogits];
      },
    });
    list.push({
      name: 'crossEntropy without mask',
      run: (be) => {
        const r = be.crossEntropy(logits, targets, T, V);
        return [[r.loss, r.count], r.dLogits];
      },
    });
  }
  {
    const L = 29;
    const param = tensor(L, 121);
    const grad = tensor(L, 122);
    const m = tensor(L, 123, 0.1);
    const v = tensor(L, 124, 0.1).map(Math.abs);
    list.push({
      name: 'adam dense',
      run: (be) => {
        const [p, mm, vv] = [param.slice(), m.slice(), v.slice()];
        be.adamUpdate(p, grad, mm, vv, ADAM);
        return [p, mm, vv];
      },
    });
  }
  {
    const [rows, cols, bs] = [10, 7, 4];
    const blocks: BlockIndex[] = [
      { rowBlock: 2, colBlock: 1 },
      { rowBlock: 0, colBlock: 0 },
    ];
    const param = tensor(rows * cols, 131);
    const grads = tensor(blocks.length * bs * bs, 132);
    const m = tensor(blocks.length * bs * bs, 133, 0.1);
    const v = tensor(blocks.length * bs * bs, 134, 0.1).map(Math.abs);
    list.push({
      name: 'adam blocks ragged',
      run: (be) => {
        const [p, mm, vv] = [param.slice(), m.slice(), v.slice()];
        be.adamUpdateBlocks(p, cols, blocks, bs, grads, mm, vv, ADAM);
        return [p, mm, vv];
      },
    });
  }
  return list;
}

/** Names of the cases {@link runConformance} executes, in order. */
export function conformanceCaseNames(): string[] {
  return cases().map((c) => c.name);
}

/**
 * Runs every case on `candidate` and `reference` and compares the outputs element by element.
 *
 * @example
 * ```ts
 * const results = runConformance(createGpuJsBackend(), createReferenceBackend(), { atol: 1e-5, rtol: 1e-4 });
 * const failed = results.filter((r) => !r.ok);
 * ```
 */
export function runConformance(
  candidate: KernelBackend,
  reference: KernelBackend,
  tolerance: Tolerance,
): ConformanceResult[] {
  return cases().map((c) => {
    const expected = c.run(reference);
    let actual: ArrayLike<number>[];
    try {
      actual = c.run(candidate);
    } catch (error) {
      return {
        name: c.name,
        maxAbsError: Number.POSITIVE_INFINITY,
        worstRatio: Number.POSITIVE_INFINITY,
        ok: false,
        error: error instanceof Error ? error.message : String(error),
      };
    }
    let maxAbsError = 0;
    let worstRatio = 0;
    let ok = actual.length === expected.length;
    expected.forEach((want, i) => {
      const got = actual[i];
      if (!got || got.length !== want.length) {
        ok = false;
        return;
      }
      for (let j = 0; j < want.length; j++) {
        const diff = Math.abs((got[j] as number) - (want[j] as number));
        const ratio = diff / (tolerance.atol + tolerance.rtol * Math.abs(want[j] as number));
        if (!(diff <= maxAbsError)) maxAbsError = Number.isNaN(diff) ? Number.POSITIVE_INFINITY : diff;
        if (!(ratio <= worstRatio)) worstRatio = Number.isNaN(ratio) ? Number.POSITIVE_INFINITY : ratio;
      }
    });
    return { name: c.name, maxAbsError, worstRatio, ok: ok && worstRatio <= 1 };
  });
}

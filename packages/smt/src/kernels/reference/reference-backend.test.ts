import { describe, expect, it } from 'vitest';
import type { AdamParams, BlockIndex } from '../backend.ts';
import { KernelError } from '../kernel-error.ts';
import { mulberry32, randomTensor } from './random.ts';
import { createReferenceBackend } from './reference-backend.ts';

const backend = createReferenceBackend();

/** Asserts element-wise closeness with an absolute plus relative tolerance, reporting the first mismatch. */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol = 1e-5, rtol = 1e-4) {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(actual[i]! - expected[i]!);
    if (!(diff <= atol + rtol * Math.abs(expected[i]!))) {
      throw new Error(`index ${i}: got ${actual[i]}, expected ${expected[i]} (|diff| ${diff})`);
    }
  }
}

/** Sum of out ⊙ r: a scalar loss whose gradient w.r.t. out is r. */
function dot(out: ArrayLike<number>, r: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < out.length; i++) s += out[i]! * r[i]!;
  return s;
}

/** Central finite differences of `loss` w.r.t. every element of `x` (restored afterwards). */
function numericGrad(loss: () => number, x: Float32Array, h = 1e-2): Float64Array {
  const grad = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const saved = x[i]!;
    x[i] = saved + h;
    const plus = loss();
    x[i] = saved - h;
    const minus = loss();
    x[i] = saved;
    // Divide by the float32 step actually taken, not the nominal one.
    grad[i] = (plus - minus) / (Math.fround(saved + h) - Math.fround(saved - h));
  }
  return grad;
}

/** Naive matmul on explicitly materialised [m,k]·[k,n] operands (no transposes), in float64. */
function naiveMatmul(a: number[][], b: number[][]): number[][] {
  return a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, p) => s + v * b[p]![j]!, 0)));
}

function toRows(x: ArrayLike<number>, rows: number, cols: number): number[][] {
  return Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => x[r * cols + c]!));
}

function transpose(x: number[][]): number[][] {
  return x[0]!.map((_, c) => x.map((row) => row[c]!));
}

describe('random utilities', () => {
  it('mulberry32 is deterministic per seed and uniform in [0, 1)', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const c = mulberry32(8);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b()));
    expect(xs[0]).not.toBe(c());
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((s, v) => s + v, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
  });

  it('randomTensor honours scale and the normal distribution', () => {
    const u = randomTensor(2000, 3, { scale: 0.5 });
    expect(Math.max(...u)).toBeLessThanOrEqual(0.5);
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-0.5);
    expect(randomTensor(10, 3, { scale: 0.5 })).toEqual(u.subarray(0, 10));
    const n = randomTensor(4000, 4, { distribution: 'normal', scale: 2 });
    const mean = n.reduce((s, v) => s + v, 0) / n.length;
    const std = Math.sqrt(n.reduce((s, v) => s + (v - mean) ** 2, 0) / n.length);
    expect(Math.abs(mean)).toBeLessThan(0.15);
    expect(std).toBeGreaterThan(1.85);
    expect(std).toBeLessThan(2.15);
  });
});

describe('matmul', () => {
  const m = 7;
  const k = 13;
  const n = 5;
  const a = randomTensor(m * k, 1);
  const b = randomTensor(k * n, 2);
  const expected = naiveMatmul(toRows(a, m, k), toRows(b, k, n)).flat();

  it('multiplies ragged shapes in all four transpose combinations', () => {
    const aT = Float32Array.from(transpose(toRows(a, m, k)).flat());
    const bT = Float32Array.from(transpose(toRows(b, k, n)).flat());
    expectClose(backend.matmul(a, b, m, k, n), expected);
    expectClose(backend.matmul(aT, b, m, k, n, { transA: true }), expected);
    expectClose(backend.matmul(a, bT, m, k, n, { transB: true }), expected);
    expectClose(backend.matmul(aT, bT, m, k, n, { transA: true, transB: true }), expected);
  });

  it('writes into out, or adds into it with accumulate', () => {
    const out = new Float32Array(m * n).fill(1);
    const returned = backend.matmul(a, b, m, k, n, { out, accumulate: true });
    expect(returned).toBe(out);
    expectClose(
      out,
      expected.map((v) => v + 1),
    );
    backend.matmul(a, b, m, k, n, { out });
    expectClose(out, expected);
  });

  it('rejects short buffers and accumulate without out', () => {
    expect(() => backend.matmul(a.subarray(1), b, m, k, n)).toThrow(/'a' must hold at least 91 values.*has 90/);
    expect(() => backend.matmul(a, b, m, k, n, { accumulate: true })).toThrow(KernelError);
  });
});

describe('block-sparse kernels', () => {
  const m = 6;
  const outDim = 12;
  const inDim = 8;
  const bs = 4;
  const g = randomTensor(m * outDim, 3);
  const x = randomTensor(m * inDim, 4);
  // Dense dW = Gᵀ · X, [outDim, inDim].
  const dense = naiveMatmul(transpose(toRows(g, m, outDim)), toRows(x, m, inDim));

  it('blockSparseWeightGrad equals the dense Gᵀ·X restricted to each selected block', () => {
    const blocks: BlockIndex[] = [
      { rowBlock: 2, colBlock: 1 },
      { rowBlock: 0, colBlock: 0 },
      { rowBlock: 2, colBlock: 1 },
    ];
    const packed = backend.blockSparseWeightGrad(g, x, m, outDim, inDim, blocks, bs);
    expect(packed.length).toBe(3 * bs * bs);
    blocks.forEach(({ rowBlock, colBlock }, kb) => {
      const expected = [];
      for (let i = 0; i < bs; i++)
        for (let j = 0; j < bs; j++) expected.push(dense[rowBlock * bs + i]![colBlock * bs + j]!);
      expectClose(packed.subarray(kb * bs * bs, (kb + 1) * bs * bs), expected);
    });
  });

  it('zero-pads ragged edge blocks and rejects blocks outside the matrix', () => {
    // 12 × 8 with bs 5: block (2, 1) covers rows 10-11 and columns 5-7 only.
    const packed = backend.blockSparseWeightGrad(g, x, m, outDim, inDim, [{ rowBlock: 2, colBlock: 1 }], 5);
    for (let i = 0; i < 5; i++) {
      for (let j = 0; j < 5; j++) {
        const inside = 10 + i < outDim && 5 + j < inDim;
        const expected = inside ? dense[10 + i]![5 + j]! : 0;
        expect(packed[i * 5 + j]).toBeCloseTo(expected, 5);
      }
    }
    expect(() => backend.blockSparseWeightGrad(g, x, m, outDim, inDim, [{ rowBlock: 3, colBlock: 0 }], bs)).toThrow(
      /block 0 \(rowBlock 3, colBlock 0\) lies outside the \[12, 8\] matrix/,
    );
  });

  it('blockScores returns mean|·| and |mean| per block', () => {
    // 4 × 4 with 2 × 2 blocks; block (0,1) has mixed signs so the two scores differ.
    const matrix = Float32Array.from([1, 2, -3, 3, 3, 4, 1, -1, 0, 0, -2, -2, 0, 0, -2, -2]);
    const { meanAbs, absMean } = backend.blockScores(matrix, 4, 4, 2);
    expectClose(meanAbs, [2.5, 2, 0, 2]);
    expectClose(absMean, [2.5, 0, 0, 2]);
    expect(() => backend.blockScores(matrix, 4, 4, 3)).toThrow(/multiples of blockSize/);
  });

  it('adamUpdateBlocks changes only the selected blocks and matches a dense update there', () => {
    const rows = 12;
    const cols = 8;
    const param = randomTensor(rows * cols, 5);
    const before = param.slice();
    const blocks: BlockIndex[] = [
      { rowBlock: 1, colBlock: 1 },
      { rowBlock: 2, colBlock: 0 },
    ];
    const grads = randomTensor(2 * bs * bs, 6);
    const mState = randomTensor(2 * bs * bs, 7, { scale: 0.1 });
    const vState = randomTensor(2 * bs * bs, 8, { scale: 0.1 }).map(Math.abs);
    const p: AdamParams = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, step: 3 };
    // The same update done densely on the gathered block values must agree.
    const gathered = new Float32Array(2 * bs * bs);
    blocks.forEach(({ rowBlock, colBlock }, kb) => {
      for (let i = 0; i < bs; i++) {
        for (let j = 0; j < bs; j++)
          gathered[kb * bs * bs + i * bs + j] = param[(rowBlock * bs + i) * cols + colBlock * bs + j]!;
      }
    });
    const mDense = mState.slice();
    const vDense = vState.slice();
    backend.adamUpdate(gathered, grads, mDense, vDense, p);
    backend.adamUpdateBlocks(param, cols, blocks, bs, grads, mState, vState, p);
    expect(mState).toEqual(mDense);
    expect(vState).toEqual(vDense);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const kb = blocks.findIndex((b) => b.rowBlock === Math.floor(r / bs) && b.colBlock === Math.floor(c / bs));
        const value = param[r * cols + c];
        if (kb < 0) expect(value).toBe(before[r * cols + c]);
        else expect(value).toBe(gathered[kb * bs * bs + (r % bs) * bs + (c % bs)]);
      }
    }
  });
});

describe('rmsnorm', () => {
  const T = 3;
  const D = 7;
  const eps = 1e-5;
  const x = randomTensor(T * D, 9);
  const w = randomTensor(D, 10);

  it('forward matches the formula', () => {
    const { y, invRms } = backend.rmsnormForward(x, w, T, D, eps);
    for (let t = 0; t < T; t++) {
      let ss = 0;
      for (let d = 0; d < D; d++) ss += x[t * D + d]! ** 2;
      const r = 1 / Math.sqrt(ss / D + eps);
      expect(invRms[t]).toBeCloseTo(r, 5);
      for (let d = 0; d < D; d++) expect(y[t * D + d]).toBeCloseTo(x[t * D + d]! * r * w[d]!, 5);
    }
  });

  it('backward matches finite differences', () => {
    const r = randomTensor(T * D, 11);
    const loss = () => dot(backend.rmsnormForward(x, w, T, D, eps).y, r);
    const { invRms } = backend.rmsnormForward(x, w, T, D, eps);
    const { dx, dWeight } = backend.rmsnormBackward(r, x, w, invRms, T, D);
    expectClose(dx, numericGrad(loss, x), 2e-3, 1e-2);
    expectClose(dWeight, numericGrad(loss, w), 2e-3, 1e-2);
  });
});

describe('rope', () => {
  const T = 3;
  const nHeads = 2;
  const headDim = 8;
  const pos0 = 5;

  it('interleaved layout rotates pairs (2i, 2i+1) by pos·base^(-2i/headDim)', () => {
    const x = randomTensor(T * nHeads * headDim, 12);
    const y = x.slice();
    backend.rope(y, T, nHeads, headDim, pos0, { layout: 'interleaved', base: 500 });
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < nHeads; h++) {
        for (let i = 0; i < headDim / 2; i++) {
          const o = (t * nHeads + h) * headDim + 2 * i;
          const angle = (pos0 + t) / 500 ** ((2 * i) / headDim);
          // (a + ib) · e^{iθ}
          expect(y[o]).toBeCloseTo(x[o]! * Math.cos(angle) - x[o + 1]! * Math.sin(angle), 5);
          expect(y[o + 1]).toBeCloseTo(x[o]! * Math.sin(angle) + x[o + 1]! * Math.cos(angle), 5);
        }
      }
    }
  });

  it('rotate-half layout equals the interleaved one on de-interleaved dimensions', () => {
    const x = randomTensor(T * nHeads * headDim, 13);
    const half = headDim / 2;
    // Element 2i of an interleaved head sits at i, and 2i+1 at i + half, in the rotate-half layout.
    const permuted = new Float32Array(x.length);
    for (let row = 0; row < T * nHeads; row++) {
      for (let i = 0; i < half; i++) {
        permuted[row * headDim + i] = x[row * headDim + 2 * i]!;
        permuted[row * headDim + i + half] = x[row * headDim + 2 * i + 1]!;
      }
    }
    backend.rope(x, T, nHeads, headDim, pos0, { layout: 'interleaved' });
    backend.rope(permuted, T, nHeads, headDim, pos0, { layout: 'rotate-half' });
    for (let row = 0; row < T * nHeads; row++) {
      for (let i = 0; i < half; i++) {
        expect(permuted[row * headDim + i]).toBeCloseTo(x[row * headDim + 2 * i]!, 6);
        expect(permuted[row * headDim + i + half]).toBeCloseTo(x[row * headDim + 2 * i + 1]!, 6);
      }
    }
  });

  for (const layout of ['interleaved', 'rotate-half'] as const) {
    it(`${layout}: inverse undoes forward and is its gradient`, () => {
      const x = randomTensor(T * nHeads * headDim, 14);
      const y = x.slice();
      backend.rope(y, T, nHeads, headDim, pos0, { layout });
      expect(Math.max(...y.map((v, i) => Math.abs(v - x[i]!)))).toBeGreaterThan(1e-2);
      backend.rope(y, T, nHeads, headDim, pos0, { layout, inverse: true });
      expectClose(y, x, 1e-6, 0);
      // For L = Σ rope(x) ⊙ r, dL/dx = rope⁻¹(r).
      const r = randomTensor(x.length, 15);
      const grad = r.slice();
      backend.rope(grad, T, nHeads, headDim, pos0, { layout, inverse: true });
      const loss = () => {
        const z = x.slice();
        backend.rope(z, T, nHeads, headDim, pos0, { layout });
        return dot(z, r);
      };
      expectClose(grad, numericGrad(loss, x), 2e-3, 1e-2);
    });
  }
});

/** Independent float64 GQA causal attention on nested arrays. */
function naiveAttention(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  T: number,
  S: number,
  nHeads: number,
  nKvHeads: number,
  headDim: number,
): Float64Array {
  const out = new Float64Array(T * nHeads * headDim);
  const kvOf = (h: number) => Math.floor((h * nKvHeads) / nHeads);
  for (let h = 0; h < nHeads; h++) {
    const qh = toRows(
      q.filter((_, i) => Math.floor(i / headDim) % nHeads === h),
      T,
      headDim,
    );
    const kh = toRows(
      k.filter((_, i) => Math.floor(i / headDim) % nKvHeads === kvOf(h)),
      S,
      headDim,
    );
    const vh = toRows(
      v.filter((_, i) => Math.floor(i / headDim) % nKvHeads === kvOf(h)),
      S,
      headDim,
    );
    const scores = naiveMatmul(qh, transpose(kh)).map((row, t) =>
      row.map((s, j) => (j <= S - T + t ? s / Math.sqrt(headDim) : -Infinity)),
    );
    const probs = scores.map((row) => {
      const e = row.map((s) => Math.exp(s - Math.max(...row)));
      const z = e.reduce((a, b) => a + b, 0);
      return e.map((x) => x / z);
    });
    const o = naiveMatmul(probs, vh);
    for (let t = 0; t < T; t++) for (let d = 0; d < headDim; d++) out[(t * nHeads + h) * headDim + d] = o[t]![d]!;
  }
  return out;
}

describe('attention (GQA, nHeads 4, nKvHeads 2)', () => {
  const nHeads = 4;
  const nKvHeads = 2;
  const headDim = 3;

  it('forward with T = S matches naive causal attention', () => {
    const T = 5;
    const q = randomTensor(T * nHeads * headDim, 16, { scale: 2 });
    const k = randomTensor(T * nKvHeads * headDim, 17, { scale: 2 });
    const v = randomTensor(T * nKvHeads * headDim, 18);
    const { out, cache } = backend.attentionForward(q, k, v, T, T, nHeads, nKvHeads, headDim);
    expectClose(out, naiveAttention(q, k, v, T, T, nHeads, nKvHeads, headDim));
    // Causality: probability rows sum to one and never look ahead.
    for (let h = 0; h < nHeads; h++) {
      for (let t = 0; t < T; t++) {
        const row = cache.probs.subarray((h * T + t) * T, (h * T + t + 1) * T);
        expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
        for (let s = t + 1; s < T; s++) expect(row[s]).toBe(0);
      }
    }
  });

  it('forward with S > T (KV cache) matches naive attention and the tail of the full sequence', () => {
    const S = 6;
    const T = 2;
    const qAll = randomTensor(S * nHeads * headDim, 19);
    const k = randomTensor(S * nKvHeads * headDim, 20);
    const v = randomTensor(S * nKvHeads * headDim, 21);
    const q = qAll.subarray((S - T) * nHeads * headDim);
    const { out } = backend.attentionForward(q, k, v, T, S, nHeads, nKvHeads, headDim);
    expectClose(out, naiveAttention(q, k, v, T, S, nHeads, nKvHeads, headDim));
    const full = backend.attentionForward(qAll, k, v, S, S, nHeads, nKvHeads, headDim).out;
    expectClose(out, full.subarray((S - T) * nHeads * headDim), 1e-6, 0);
  });

  it('backward matches finite differences for q, k and v', () => {
    const T = 4;
    const q = randomTensor(T * nHeads * headDim, 22);
    const k = randomTensor(T * nKvHeads * headDim, 23);
    const v = randomTensor(T * nKvHeads * headDim, 24);
    const r = randomTensor(T * nHeads * headDim, 25);
    const loss = () => dot(backend.attentionForward(q, k, v, T, T, nHeads, nKvHeads, headDim).out, r);
    const { cache } = backend.attentionForward(q, k, v, T, T, nHeads, nKvHeads, headDim);
    const { dq, dk, dv } = backend.attentionBackward(r, q, k, v, cache, T, nHeads, nKvHeads, headDim);
    expectClose(dq, numericGrad(loss, q), 2e-3, 1e-2);
    expectClose(dk, numericGrad(loss, k), 2e-3, 1e-2);
    expectClose(dv, numericGrad(loss, v), 2e-3, 1e-2);
  });
});

describe('swiglu', () => {
  const gate = randomTensor(11, 26, { scale: 3 });
  const up = randomTensor(11, 27);

  it('forward is silu(gate) ⊙ up', () => {
    const h = backend.swigluForward(gate, up);
    gate.forEach((g, i) => {
      expect(h[i]).toBeCloseTo((g / (1 + Math.exp(-g))) * up[i]!, 6);
    });
  });

  it('backward matches finite differences', () => {
    const r = randomTensor(11, 28);
    const loss = () => dot(backend.swigluForward(gate, up), r);
    const { dGate, dUp } = backend.swigluBackward(r, gate, up);
    expectClose(dGate, numericGrad(loss, gate), 2e-3, 1e-2);
    expectClose(dUp, numericGrad(loss, up), 2e-3, 1e-2);
  });
});

describe('crossEntropy', () => {
  const T = 4;
  const V = 6;
  const logits = randomTensor(T * V, 29, { scale: 3 });
  const targets = Int32Array.from([2, 0, 5, 3]);

  const naiveNll = (t: number) => {
    const row = Array.from(logits.subarray(t * V, (t + 1) * V));
    const z = row.reduce((s, x) => s + Math.exp(x), 0);
    return -Math.log(Math.exp(row[targets[t]!]!) / z);
  };

  it('averages -log softmax over all rows without a mask', () => {
    const { loss, count } = backend.crossEntropy(logits, targets, T, V);
    expect(count).toBe(T);
    expect(loss).toBeCloseTo((naiveNll(0) + naiveNll(1) + naiveNll(2) + naiveNll(3)) / 4, 5);
  });

  it('counts only masked rows and its gradient matches finite differences', () => {
    const mask = Uint8Array.from([1, 0, 1, 0]);
    const { loss, count, dLogits } = backend.crossEntropy(logits, targets, T, V, mask);
    expect(count).toBe(2);
    expect(loss).toBeCloseTo((naiveNll(0) + naiveNll(2)) / 2, 5);
    expect(dLogits.subarray(V, 2 * V).every((g) => g === 0)).toBe(true);
    const numeric = numericGrad(() => backend.crossEntropy(logits, targets, T, V, mask).loss, logits);
    expectClose(dLogits, numeric, 1e-3, 1e-2);
  });

  it('returns zeros, not NaN, when no row counts, and rejects out-of-vocabulary targets', () => {
    const none = backend.crossEntropy(logits, targets, T, V, new Uint8Array(T));
    expect(none).toMatchObject({ loss: 0, count: 0 });
    expect(none.dLogits.every((g) => g === 0)).toBe(true);
    expect(() => backend.crossEntropy(logits, Int32Array.from([0, 6, 0, 0]), T, V)).toThrow(/target 6 at row 1/);
  });
});

describe('adamUpdate', () => {
  const base = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8 };

  it('Adam (no decay) matches two hand-computed steps', () => {
    const param = Float32Array.from([1, -2]);
    const m = new Float32Array(2);
    const v = new Float32Array(2);
    backend.adamUpdate(param, Float32Array.from([0.5, 0]), m, v, { ...base, weightDecay: 0, step: 1 });
    // Step 1: m̂ = g, v̂ = g², so the step is lr·sign(g) (0 where g = 0).
    expectClose(param, [0.9, -2], 1e-6, 0);
    expectClose(m, [0.05, 0], 1e-8, 0);
    expectClose(v, [0.00025, 0], 1e-9, 0);
    backend.adamUpdate(param, Float32Array.from([-0.25, 1]), m, v, { ...base, weightDecay: 0, step: 2 });
    // Step 2, param 0: m = 0.045 - 0.025 = 0.02, v = 0.00024975 + 0.0000625 = 0.00031225;
    // m̂ = 0.02/0.19, v̂ = 0.00031225/0.001999.
    const mHat = 0.02 / 0.19;
    const vHat = 0.00031225 / 0.001999;
    expect(param[0]).toBeCloseTo(0.9 - (0.1 * mHat) / (Math.sqrt(vHat) + 1e-8), 6);
    // Param 1 first sees a gradient at step 2: m = 0.1, v = 0.001, m̂ = 0.1/0.19, v̂ = 0.001/0.001999.
    expect(param[1]).toBeCloseTo(-2 - (0.1 * (0.1 / 0.19)) / Math.sqrt(0.001 / 0.001999), 6);
  });

  it('AdamW applies decoupled decay lr·wd·param before the Adam step', () => {
    const param = Float32Array.from([1, -2]);
    const m = new Float32Array(2);
    const v = new Float32Array(2);
    backend.adamUpdate(param, Float32Array.from([0.5, 0]), m, v, { ...base, weightDecay: 0.1, step: 1 });
    // 1·(1 - 0.01) - 0.1 and -2·(1 - 0.01) - 0.
    expectClose(param, [0.89, -1.98], 1e-6, 0);
  });
});

/**
 * The reference kernel backend: straightforward loops over `Float32Array`, written for clarity rather than speed.
 * It is the correctness oracle the `wasm` and `gpujs` backends are tested against, so every reduction
 * accumulates in float64 (plain JS numbers) and rounds to float32 only when storing.
 *
 * @module
 */

import type { AdamParams, AttentionCache, BlockIndex, KernelBackend, RopeLayout } from '../backend.ts';
import { KernelError } from '../kernel-error.ts';
import { checkAdamStep, checkBlocks, checkHeads, checkLength } from '../validate.ts';

/**
 * Creates the plain-TypeScript backend that implements every kernel of {@link KernelBackend}.
 *
 * Behaviour beyond the contract, which other backends should mirror:
 * - `attentionForward` returns probabilities shaped `[nHeads, T, S]` (equal to `[nHeads, T, T]` when T = S).
 * - `blockSparseWeightGrad` and `adamUpdateBlocks` accept ragged edge blocks (a block that starts inside the
 *   matrix but extends past its last row or column): entries outside the matrix are zero in the packed gradient
 *   and are never written to the weight. A block that starts outside the matrix is an error.
 * - `crossEntropy` with no counted row returns loss 0, count 0 and zero gradients (never NaN).
 *
 * @example
 * ```ts
 * const backend = createReferenceBackend();
 * const c = backend.matmul(a, b, 2, 3, 4); // [2, 3] · [3, 4]
 * ```
 */
export function createReferenceBackend(): KernelBackend {
  return {
    name: 'reference',
    mode: 'reference',
    matmul,
    blockSparseWeightGrad,
    blockScores,
    rmsnormForward,
    rmsnormBackward,
    rope,
    attentionForward,
    attentionBackward,
    swigluForward,
    swigluBackward,
    crossEntropy,
    adamUpdate,
    adamUpdateBlocks,
  };
}

function matmul(
  a: Float32Array,
  b: Float32Array,
  m: number,
  k: number,
  n: number,
  options: { transA?: boolean; transB?: boolean; out?: Float32Array; accumulate?: boolean } = {},
): Float32Array {
  const { transA = false, transB = false, accumulate = false } = options;
  checkLength('matmul', 'a', a, m * k);
  checkLength('matmul', 'b', b, k * n);
  if (accumulate && !options.out) {
    throw new KernelError('matmul: accumulate is true but no out buffer was given to accumulate into.');
  }
  const out = options.out ?? new Float32Array(m * n);
  checkLength('matmul', 'out', out, m * n);
  // Element strides let one loop serve all four transpose combinations.
  const aRow = transA ? 1 : k;
  const aCol = transA ? m : 1;
  const bRow = transB ? 1 : n;
  const bCol = transB ? k : 1;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) sum += a[i * aRow + p * aCol]! * b[p * bRow + j * bCol]!;
      const o = i * n + j;
      out[o] = accumulate ? out[o]! + sum : sum;
    }
  }
  return out;
}

function blockSparseWeightGrad(
  g: Float32Array,
  x: Float32Array,
  m: number,
  outDim: number,
  inDim: number,
  blocks: readonly BlockIndex[],
  blockSize: number,
): Float32Array {
  checkLength('blockSparseWeightGrad', 'g', g, m * outDim);
  checkLength('blockSparseWeightGrad', 'x', x, m * inDim);
  checkBlocks('blockSparseWeightGrad', blocks, blockSize, outDim, inDim);
  const bs = blockSize;
  const out = new Float32Array(blocks.length * bs * bs);
  blocks.forEach(({ rowBlock, colBlock }, kb) => {
    const r0 = rowBlock * bs;
    const c0 = colBlock * bs;
    const rEnd = Math.min(bs, outDim - r0);
    const cEnd = Math.min(bs, inDim - c0);
    for (let i = 0; i < rEnd; i++) {
      for (let j = 0; j < cEnd; j++) {
        let sum = 0;
        for (let t = 0; t < m; t++) sum += g[t * outDim + r0 + i]! * x[t * inDim + c0 + j]!;
        out[kb * bs * bs + i * bs + j] = sum;
      }
    }
  });
  return out;
}

function blockScores(
  matrix: Float32Array,
  rows: number,
  cols: number,
  blockSize: number,
): { meanAbs: Float32Array; absMean: Float32Array } {
  if (!Number.isInteger(blockSize) || blockSize <= 0 || rows % blockSize !== 0 || cols % blockSize !== 0) {
    throw new KernelError(
      `blockScores: rows (${rows}) and cols (${cols}) must be multiples of blockSize (${blockSize}).`,
    );
  }
  checkLength('blockScores', 'matrix', matrix, rows * cols);
  const br = rows / blockSize;
  const bc = cols / blockSize;
  const meanAbs = new Float32Array(br * bc);
  const absMean = new Float32Array(br * bc);
  const count = blockSize * blockSize;
  for (let bi = 0; bi < br; bi++) {
    for (let bj = 0; bj < bc; bj++) {
      let sum = 0;
      let sumAbs = 0;
      for (let i = 0; i < blockSize; i++) {
        const row = (bi * blockSize + i) * cols + bj * blockSize;
        for (let j = 0; j < blockSize; j++) {
          const value = matrix[row + j]!;
          sum += value;
          sumAbs += Math.abs(value);
        }
      }
      meanAbs[bi * bc + bj] = sumAbs / count;
      absMean[bi * bc + bj] = Math.abs(sum / count);
    }
  }
  return { meanAbs, absMean };
}

function rmsnormForward(
  x: Float32Array,
  weight: Float32Array,
  T: number,
  D: number,
  eps: number,
): { y: Float32Array; invRms: Float32Array } {
  checkLength('rmsnormForward', 'x', x, T * D);
  checkLength('rmsnormForward', 'weight', weight, D);
  const y = new Float32Array(T * D);
  const invRms = new Float32Array(T);
  for (let t = 0; t < T; t++) {
    let ss = 0;
    for (let d = 0; d < D; d++) ss += x[t * D + d]! * x[t * D + d]!;
    const r = 1 / Math.sqrt(ss / D + eps);
    invRms[t] = r;
    for (let d = 0; d < D; d++) y[t * D + d] = x[t * D + d]! * r * weight[d]!;
  }
  return { y, invRms };
}

function rmsnormBackward(
  dy: Float32Array,
  x: Float32Array,
  weight: Float32Array,
  invRms: Float32Array,
  T: number,
  D: number,
): { dx: Float32Array; dWeight: Float32Array } {
  checkLength('rmsnormBackward', 'dy', dy, T * D);
  checkLength('rmsnormBackward', 'x', x, T * D);
  checkLength('rmsnormBackward', 'weight', weight, D);
  checkLength('rmsnormBackward', 'invRms', invRms, T);
  const dx = new Float32Array(T * D);
  const dWeightSum = new Float64Array(D);
  for (let t = 0; t < T; t++) {
    const r = invRms[t]!;
    // y_i = w_i x_i r with r = (mean(x²) + eps)^(-1/2), so ∂r/∂x_j = -r³ x_j / D.
    let dot = 0;
    for (let d = 0; d < D; d++) dot += dy[t * D + d]! * weight[d]! * x[t * D + d]!;
    const coef = (r * r * r * dot) / D;
    for (let d = 0; d < D; d++) {
      const i = t * D + d;
      dx[i] = dy[i]! * weight[d]! * r - x[i]! * coef;
      dWeightSum[d] = dWeightSum[d]! + dy[i]! * x[i]! * r;
    }
  }
  return { dx, dWeight: Float32Array.from(dWeightSum) };
}

function rope(
  x: Float32Array,
  T: number,
  nHeads: number,
  headDim: number,
  pos0: number,
  options: { layout: RopeLayout; base?: number; inverse?: boolean },
): void {
  if (headDim % 2 !== 0) throw new KernelError(`rope: headDim must be even, got ${headDim}.`);
  checkLength('rope', 'x', x, T * nHeads * headDim);
  const base = options.base ?? 10000;
  const sign = options.inverse ? -1 : 1;
  const half = headDim / 2;
  for (let t = 0; t < T; t++) {
    const pos = pos0 + t;
    for (let h = 0; h < nHeads; h++) {
      const off = (t * nHeads + h) * headDim;
      for (let i = 0; i < half; i++) {
        const angle = pos * base ** ((-2 * i) / headDim);
        const cos = Math.cos(angle);
        const sin = sign * Math.sin(angle);
        // The two layouts differ only in which dimensions form the rotated pair.
        const ia = options.layout === 'interleaved' ? off + 2 * i : off + i;
        const ib = options.layout === 'interleaved' ? off + 2 * i + 1 : off + i + half;
        const a = x[ia]!;
        const b = x[ib]!;
        x[ia] = a * cos - b * sin;
        x[ib] = a * sin + b * cos;
      }
    }
  }
}

function attentionForward(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  T: number,
  S: number,
  nHeads: number,
  nKvHeads: number,
  headDim: number,
): { out: Float32Array; cache: AttentionCache } {
  checkHeads('attentionForward', nHeads, nKvHeads);
  if (S < T) throw new KernelError(`attentionForward: S (${S}) must be at least T (${T}).`);
  checkLength('attentionForward', 'q', q, T * nHeads * headDim);
  checkLength('attentionForward', 'k', k, S * nKvHeads * headDim);
  checkLength('attentionForward', 'v', v, S * nKvHeads * headDim);
  const group = nHeads / nKvHeads;
  const scale = 1 / Math.sqrt(headDim);
  const out = new Float32Array(T * nHeads * headDim);
  const probs = new Float32Array(nHeads * T * S);
  const scores = new Float64Array(S);
  const acc = new Float64Array(headDim);
  for (let h = 0; h < nHeads; h++) {
    const kvh = Math.floor(h / group);
    for (let t = 0; t < T; t++) {
      const last = S - T + t; // absolute position of query t: it sees keys 0..last
      const qOff = (t * nHeads + h) * headDim;
      let max = -Infinity;
      for (let s = 0; s <= last; s++) {
        const kOff = (s * nKvHeads + kvh) * headDim;
        let dot = 0;
        for (let d = 0; d < headDim; d++) dot += q[qOff + d]! * k[kOff + d]!;
        scores[s] = dot * scale;
        if (scores[s]! > max) max = scores[s]!;
      }
      let sum = 0;
      for (let s = 0; s <= last; s++) {
        scores[s] = Math.exp(scores[s]! - max);
        sum += scores[s]!;
      }
      acc.fill(0);
      const pOff = (h * T + t) * S;
      for (let s = 0; s <= last; s++) {
        const p = scores[s]! / sum;
        probs[pOff + s] = p;
        const vOff = (s * nKvHeads + kvh) * headDim;
        for (let d = 0; d < headDim; d++) acc[d] = acc[d]! + p * v[vOff + d]!;
      }
      for (let d = 0; d < headDim; d++) out[qOff + d] = acc[d]!;
    }
  }
  return { out, cache: { probs } };
}

function attentionBackward(
  dOut: Float32Array,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  cache: AttentionCache,
  T: number,
  nHeads: number,
  nKvHeads: number,
  headDim: number,
): { dq: Float32Array; dk: Float32Array; dv: Float32Array } {
  checkHeads('attentionBackward', nHeads, nKvHeads);
  checkLength('attentionBackward', 'dOut', dOut, T * nHeads * headDim);
  checkLength('attentionBackward', 'q', q, T * nHeads * headDim);
  checkLength('attentionBackward', 'k', k, T * nKvHeads * headDim);
  checkLength('attentionBackward', 'v', v, T * nKvHeads * headDim);
  checkLength('attentionBackward', 'cache.probs', cache.probs, nHeads * T * T);
  const group = nHeads / nKvHeads;
  const scale = 1 / Math.sqrt(headDim);
  const dq = new Float64Array(T * nHeads * headDim);
  // Several query heads share one kv head, so their contributions are summed in float64 first.
  const dk = new Float64Array(T * nKvHeads * headDim);
  const dv = new Float64Array(T * nKvHeads * headDim);
  const dp = new Float64Array(T);
  for (let h = 0; h < nHeads; h++) {
    const kvh = Math.floor(h / group);
    for (let t = 0; t < T; t++) {
      const qOff = (t * nHeads + h) * headDim;
      const pOff = (h * T + t) * T;
      // dP[s] = dOut[t]·v[s]; softmax backward: dScore[s] = P[s] (dP[s] - Σ_s' P[s'] dP[s']).
      let weighted = 0;
      for (let s = 0; s <= t; s++) {
        const vOff = (s * nKvHeads + kvh) * headDim;
        let dot = 0;
        for (let d = 0; d < headDim; d++) dot += dOut[qOff + d]! * v[vOff + d]!;
        dp[s] = dot;
        weighted += cache.probs[pOff + s]! * dot;
      }
      for (let s = 0; s <= t; s++) {
        const p = cache.probs[pOff + s]!;
        const dScore = p * (dp[s]! - weighted) * scale;
        const kvOff = (s * nKvHeads + kvh) * headDim;
        for (let d = 0; d < headDim; d++) {
          dv[kvOff + d] = dv[kvOff + d]! + p * dOut[qOff + d]!;
          dq[qOff + d] = dq[qOff + d]! + dScore * k[kvOff + d]!;
          dk[kvOff + d] = dk[kvOff + d]! + dScore * q[qOff + d]!;
        }
      }
    }
  }
  return { dq: Float32Array.from(dq), dk: Float32Array.from(dk), dv: Float32Array.from(dv) };
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

function swigluForward(gate: Float32Array, up: Float32Array): Float32Array {
  checkLength('swigluForward', 'up', up, gate.length);
  const h = new Float32Array(gate.length);
  for (let i = 0; i < gate.length; i++) h[i] = gate[i]! * sigmoid(gate[i]!) * up[i]!;
  return h;
}

function swigluBackward(
  dh: Float32Array,
  gate: Float32Array,
  up: Float32Array,
): { dGate: Float32Array; dUp: Float32Array } {
  checkLength('swigluBackward', 'gate', gate, dh.length);
  checkLength('swigluBackward', 'up', up, dh.length);
  const dGate = new Float32Array(dh.length);
  const dUp = new Float32Array(dh.length);
  for (let i = 0; i < dh.length; i++) {
    const g = gate[i]!;
    const s = sigmoid(g);
    dUp[i] = dh[i]! * g * s;
    // d/dg [g σ(g)] = σ(g) (1 + g (1 - σ(g))).
    dGate[i] = dh[i]! * up[i]! * s * (1 + g * (1 - s));
  }
  return { dGate, dUp };
}

function crossEntropy(
  logits: Float32Array,
  targets: Int32Array,
  T: number,
  V: number,
  mask?: Uint8Array,
): { loss: number; count: number; dLogits: Float32Array } {
  checkLength('crossEntropy', 'logits', logits, T * V);
  checkLength('crossEntropy', 'targets', targets, T);
  if (mask) checkLength('crossEntropy', 'mask', mask, T);
  const counted = (t: number) => mask?.[t] !== 0;
  let count = 0;
  for (let t = 0; t < T; t++) {
    if (!counted(t)) continue;
    count++;
    const target = targets[t]!;
    if (!Number.isInteger(target) || target < 0 || target >= V) {
      throw new KernelError(`crossEntropy: target ${target} at row ${t} is outside the vocabulary [0, ${V}).`);
    }
  }
  const dLogits = new Float32Array(T * V);
  if (count === 0) return { loss: 0, count: 0, dLogits };
  let total = 0;
  for (let t = 0; t < T; t++) {
    if (!counted(t)) continue;
    const row = t * V;
    let max = -Infinity;
    for (let i = 0; i < V; i++) if (logits[row + i]! > max) max = logits[row + i]!;
    let sum = 0;
    for (let i = 0; i < V; i++) sum += Math.exp(logits[row + i]! - max);
    const logSumExp = max + Math.log(sum);
    const target = targets[t]!;
    total += logSumExp - logits[row + target]!;
    for (let i = 0; i < V; i++) {
      const p = Math.exp(logits[row + i]! - logSumExp);
      dLogits[row + i] = (p - (i === target ? 1 : 0)) / count;
    }
  }
  return { loss: total / count, count, dLogits };
}

/** One Adam/AdamW update of a single scalar; returns the new parameter and writes the moments. */
function adamScalar(
  param: number,
  grad: number,
  m: Float32Array,
  v: Float32Array,
  i: number,
  p: AdamParams,
  correction1: number,
  correction2: number,
): number {
  const mi = p.beta1 * m[i]! + (1 - p.beta1) * grad;
  const vi = p.beta2 * v[i]! + (1 - p.beta2) * grad * grad;
  m[i] = mi;
  v[i] = vi;
  // Decoupled weight decay as in PyTorch's AdamW: shrink first, then apply the Adam step.
  const decayed = param * (1 - p.lr * p.weightDecay);
  return decayed - (p.lr * (mi / correction1)) / (Math.sqrt(vi / correction2) + p.eps);
}

function adamUpdate(param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, p: AdamParams): void {
  checkAdamStep('adamUpdate', p);
  checkLength('adamUpdate', 'grad', grad, param.length);
  checkLength('adamUpdate', 'm', m, param.length);
  checkLength('adamUpdate', 'v', v, param.length);
  const c1 = 1 - p.beta1 ** p.step;
  const c2 = 1 - p.beta2 ** p.step;
  for (let i = 0; i < param.length; i++) param[i] = adamScalar(param[i]!, grad[i]!, m, v, i, p, c1, c2);
}

function adamUpdateBlocks(
  param: Float32Array,
  cols: number,
  blocks: readonly BlockIndex[],
  blockSize: number,
  grads: Float32Array,
  m: Float32Array,
  v: Float32Array,
  p: AdamParams,
): void {
  checkAdamStep('adamUpdateBlocks', p);
  if (!Number.isInteger(cols) || cols <= 0 || param.length % cols !== 0) {
    throw new KernelError(`adamUpdateBlocks: param length ${param.length} is not a multiple of cols (${cols}).`);
  }
  const rows = param.length / cols;
  checkBlocks('adamUpdateBlocks', blocks, blockSize, rows, cols);
  const bs = blockSize;
  const packed = blocks.length * bs * bs;
  checkLength('adamUpdateBlocks', 'grads', grads, packed);
  checkLength('adamUpdateBlocks', 'm', m, packed);
  checkLength('adamUpdateBlocks', 'v', v, packed);
  const c1 = 1 - p.beta1 ** p.step;
  const c2 = 1 - p.beta2 ** p.step;
  blocks.forEach(({ rowBlock, colBlock }, kb) => {
    const r0 = rowBlock * bs;
    const c0 = colBlock * bs;
    const rEnd = Math.min(bs, rows - r0);
    const cEnd = Math.min(bs, cols - c0);
    for (let i = 0; i < rEnd; i++) {
      for (let j = 0; j < cEnd; j++) {
        const w = (r0 + i) * cols + c0 + j;
        param[w] = adamScalar(param[w]!, grads[kb * bs * bs + i * bs + j]!, m, v, kb * bs * bs + i * bs + j, p, c1, c2);
      }
    }
  });
}

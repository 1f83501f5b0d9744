/**
 * The allocation-free forward step of one token: plain loops over preallocated `Float32Array`s, used for
 * decoding (T = 1), where a model as small as stories260K spends more time in per-kernel overhead (argument
 * checks, fresh output arrays, option objects) than in arithmetic, and, with the reference backend, for prompts
 * too (token by token, since those kernels compute the same sums more slowly).
 *
 * The step reproduces the reference backend bit for bit: every dot product accumulates in float64 over the
 * input dimension in ascending order and is rounded to float32 when stored, every intermediate that the
 * reference keeps in a `Float32Array` is rounded at the same point, and RoPE angles, softmax and SiLU use the
 * same expressions. Greedy decoding through this step is therefore token-identical to decoding through
 * `createReferenceBackend()`, which is what the llama2.c golden test checks. Speed comes only from work that
 * leaves each individual sum unchanged: several output rows (and, in attention, several keys and several output
 * dimensions) are accumulated side by side as independent dependency chains, the SwiGLU gate and up projections
 * share one pass over the input, keys and values are written straight into the cache, and the RoPE cosines are
 * computed once per position instead of once per head and layer.
 *
 * A note on exactness: the float64 sums are rounded to float32 on store, so even a reordered float64 sum would
 * almost never change a stored value; what must match exactly is where float32 rounding happens (q, k, v, the
 * gate and up projections, the attention output, the residual stream). The tests compare against the reference
 * kernels bit for bit to hold that.
 *
 * @module
 */

import { DspyError } from '@dspy-ts/core';
import { headDim, kvDim, type LlamaConfig, type LlamaWeights } from './llama-config.ts';

/** The key/value storage {@link DirectForward.step} reads and appends to: per layer, `[seqLen, kvDim]`. */
export interface DirectKvStore {
  /** Per layer, `[seqLen, kvDim]`. */
  readonly keys: readonly Float32Array[];
  /** Per layer, `[seqLen, kvDim]`. */
  readonly values: readonly Float32Array[];
}

/**
 * out[outOffset + j] = Σ_p x[p] · w[j·n + p] for j < rows (or added to the existing value when `accumulate`),
 * each sum in float64 with p ascending, rounded to float32 on store — the reference backend's `matmul` with
 * `transB` for one row. Eight rows run side by side: their sums are independent dependency chains, which keeps
 * the floating-point adders busy without changing any single sum.
 */
export function matvec(
  out: Float32Array,
  outOffset: number,
  x: Float32Array,
  w: Float32Array,
  rows: number,
  n: number,
  accumulate: boolean,
): void {
  let j = 0;
  for (; j + 8 <= rows; j += 8) {
    const r0 = j * n;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let s4 = 0;
    let s5 = 0;
    let s6 = 0;
    let s7 = 0;
    for (let p = 0, r = r0; p < n; p++, r++) {
      const xp = x[p]!;
      s0 += xp * w[r]!;
      s1 += xp * w[r + n]!;
      s2 += xp * w[r + 2 * n]!;
      s3 += xp * w[r + 3 * n]!;
      s4 += xp * w[r + 4 * n]!;
      s5 += xp * w[r + 5 * n]!;
      s6 += xp * w[r + 6 * n]!;
      s7 += xp * w[r + 7 * n]!;
    }
    const o = outOffset + j;
    if (accumulate) {
      out[o] = out[o]! + s0;
      out[o + 1] = out[o + 1]! + s1;
      out[o + 2] = out[o + 2]! + s2;
      out[o + 3] = out[o + 3]! + s3;
      out[o + 4] = out[o + 4]! + s4;
      out[o + 5] = out[o + 5]! + s5;
      out[o + 6] = out[o + 6]! + s6;
      out[o + 7] = out[o + 7]! + s7;
    } else {
      out[o] = s0;
      out[o + 1] = s1;
      out[o + 2] = s2;
      out[o + 3] = s3;
      out[o + 4] = s4;
      out[o + 5] = s5;
      out[o + 6] = s6;
      out[o + 7] = s7;
    }
  }
  for (; j < rows; j++) {
    const r = j * n;
    let s = 0;
    for (let p = 0; p < n; p++) s += x[p]! * w[r + p]!;
    const o = outOffset + j;
    out[o] = accumulate ? out[o]! + s : s;
  }
}

/**
 * y = x / sqrt(mean(x²) + eps) ⊙ weight for one row of `dim` values, with the reference backend's rounding:
 * the sum of squares in float64, `(x · r) · w` in float64, rounded on store.
 */
function rmsnormRow(y: Float32Array, x: Float32Array, weight: Float32Array, dim: number, eps: number): void {
  let ss = 0;
  for (let d = 0; d < dim; d++) ss += x[d]! * x[d]!;
  const r = 1 / Math.sqrt(ss / dim + eps);
  for (let d = 0; d < dim; d++) y[d] = x[d]! * r * weight[d]!;
}

/**
 * Runs one token through a LLaMA model with preallocated scratch buffers. One instance belongs to one model;
 * it is not re-entrant (the buffers are shared between calls), which is fine for JavaScript's single thread.
 *
 * @example
 * ```ts
 * const step = new DirectForward(config, weights);
 * const logits = new Float32Array(config.vocabSize);
 * step.step(1, 0, cache, logits); // BOS at position 0
 * ```
 */
export class DirectForward {
  readonly #config: LlamaConfig;
  readonly #weights: LlamaWeights;
  readonly #x: Float32Array;
  readonly #xb: Float32Array;
  readonly #q: Float32Array;
  readonly #att: Float32Array;
  readonly #hidden: Float32Array;
  readonly #scores: Float64Array;
  /** `base^(-2i/headDim)` for each rotated pair i, as the reference computes it. */
  readonly #invFreq: Float64Array;
  readonly #cos: Float64Array;
  readonly #sin: Float64Array;

  /** Allocates the scratch buffers for `config`; `weights` are read (never copied), so in-place updates apply. */
  constructor(config: LlamaConfig, weights: LlamaWeights) {
    this.#config = config;
    this.#weights = weights;
    const hs = headDim(config);
    this.#x = new Float32Array(config.dim);
    this.#xb = new Float32Array(config.dim);
    this.#q = new Float32Array(config.dim);
    this.#att = new Float32Array(config.dim);
    this.#hidden = new Float32Array(config.hiddenDim);
    this.#scores = new Float64Array(config.seqLen);
    const half = hs / 2;
    this.#invFreq = new Float64Array(half);
    for (let i = 0; i < half; i++) this.#invFreq[i] = config.ropeBase ** ((-2 * i) / hs);
    this.#cos = new Float64Array(half);
    this.#sin = new Float64Array(half);
  }

  /**
   * Runs `token` at position `pos`, reading positions `< pos` from `cache` and writing this position's keys
   * and values into it. Writes the `[vocabSize]` logits into `logits`, or skips the final norm and classifier
   * when `logits` is null (prompt positions whose predictions are not needed).
   */
  step(token: number, pos: number, cache: DirectKvStore, logits: Float32Array | null): void {
    const config = this.#config;
    const weights = this.#weights;
    const { dim, hiddenDim, nHeads, nKvHeads, vocabSize, normEps } = config;
    if (!Number.isInteger(token) || token < 0 || token >= vocabSize) {
      throw new DspyError('invalid_argument', `Token id ${token} is outside the vocabulary [0, ${vocabSize}).`);
    }
    const hs = headDim(config);
    const kv = kvDim(config);
    const half = hs / 2;
    const group = nHeads / nKvHeads;
    const scale = 1 / Math.sqrt(hs);
    const interleaved = config.ropeLayout === 'interleaved';
    const x = this.#x;
    const xb = this.#xb;
    const q = this.#q;
    const att = this.#att;
    const hidden = this.#hidden;
    const scores = this.#scores;
    const cos = this.#cos;
    const sin = this.#sin;

    // Every head and layer rotates by the same angles at one position.
    for (let i = 0; i < half; i++) {
      const angle = pos * this.#invFreq[i]!;
      cos[i] = Math.cos(angle);
      sin[i] = Math.sin(angle);
    }
    x.set(weights.tokenEmbedding.subarray(token * dim, (token + 1) * dim));

    for (let l = 0; l < weights.layers.length; l++) {
      const layer = weights.layers[l]!;
      const keys = cache.keys[l]!;
      const values = cache.values[l]!;
      const row = pos * kv;

      rmsnormRow(xb, x, layer.attnNorm, dim, normEps);
      matvec(q, 0, xb, layer.wq, dim, dim, false);
      matvec(keys, row, xb, layer.wk, kv, dim, false);
      matvec(values, row, xb, layer.wv, kv, dim, false);
      rotate(q, 0, nHeads, hs, half, interleaved, cos, sin);
      rotate(keys, row, nKvHeads, hs, half, interleaved, cos, sin);

      // Causal attention of the one query over positions 0..pos, head by head.
      for (let h = 0; h < nHeads; h++) {
        attendOne(att, q, h * hs, keys, values, Math.floor(h / group) * hs, kv, hs, pos, scale, scores);
      }
      matvec(x, 0, att, layer.wo, dim, dim, true);

      rmsnormRow(xb, x, layer.ffnNorm, dim, normEps);
      swigluRows(hidden, xb, layer.w1, layer.w3, hiddenDim, dim);
      matvec(x, 0, hidden, layer.w2, dim, hiddenDim, true);
    }

    if (logits) {
      rmsnormRow(xb, x, weights.finalNorm, dim, normEps);
      matvec(logits, 0, xb, weights.classifier, vocabSize, dim, false);
    }
  }
}

/**
 * out[qOff …] = Σ_s softmax(q·k_s / √hs)_s · v_s over s = 0..pos for one head, with the reference backend's
 * arithmetic: each score is a float64 dot product over d ascending, times the scale; the softmax subtracts the
 * maximum, sums the exponentials over s ascending and divides each by the sum; each output accumulates p·v over
 * s ascending in float64. Four keys are scored side by side and eight output dimensions accumulated side by
 * side — separate sums, each in its original order — so the work runs as independent dependency chains.
 */
function attendOne(
  out: Float32Array,
  q: Float32Array,
  qOff: number,
  keys: Float32Array,
  values: Float32Array,
  kvOff: number,
  kv: number,
  hs: number,
  pos: number,
  scale: number,
  scores: Float64Array,
): void {
  const S = pos + 1;
  let s = 0;
  for (; s + 4 <= S; s += 4) {
    const k0 = s * kv + kvOff;
    const k1 = k0 + kv;
    const k2 = k1 + kv;
    const k3 = k2 + kv;
    let d0 = 0;
    let d1 = 0;
    let d2 = 0;
    let d3 = 0;
    for (let d = 0; d < hs; d++) {
      const qd = q[qOff + d]!;
      d0 += qd * keys[k0 + d]!;
      d1 += qd * keys[k1 + d]!;
      d2 += qd * keys[k2 + d]!;
      d3 += qd * keys[k3 + d]!;
    }
    scores[s] = d0 * scale;
    scores[s + 1] = d1 * scale;
    scores[s + 2] = d2 * scale;
    scores[s + 3] = d3 * scale;
  }
  for (; s < S; s++) {
    const k0 = s * kv + kvOff;
    let dot = 0;
    for (let d = 0; d < hs; d++) dot += q[qOff + d]! * keys[k0 + d]!;
    scores[s] = dot * scale;
  }
  let max = Number.NEGATIVE_INFINITY;
  for (s = 0; s < S; s++) if (scores[s]! > max) max = scores[s]!;
  let sum = 0;
  for (s = 0; s < S; s++) {
    const e = Math.exp(scores[s]! - max);
    scores[s] = e;
    sum += e;
  }
  for (s = 0; s < S; s++) scores[s] = scores[s]! / sum;
  let d = 0;
  for (; d + 8 <= hs; d += 8) {
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    let a4 = 0;
    let a5 = 0;
    let a6 = 0;
    let a7 = 0;
    for (let t = 0, v = kvOff + d; t < S; t++, v += kv) {
      const p = scores[t]!;
      a0 += p * values[v]!;
      a1 += p * values[v + 1]!;
      a2 += p * values[v + 2]!;
      a3 += p * values[v + 3]!;
      a4 += p * values[v + 4]!;
      a5 += p * values[v + 5]!;
      a6 += p * values[v + 6]!;
      a7 += p * values[v + 7]!;
    }
    const o = qOff + d;
    out[o] = a0;
    out[o + 1] = a1;
    out[o + 2] = a2;
    out[o + 3] = a3;
    out[o + 4] = a4;
    out[o + 5] = a5;
    out[o + 6] = a6;
    out[o + 7] = a7;
  }
  for (; d + 2 <= hs; d += 2) {
    let a0 = 0;
    let a1 = 0;
    for (let t = 0, v = kvOff + d; t < S; t++, v += kv) {
      const p = scores[t]!;
      a0 += p * values[v]!;
      a1 += p * values[v + 1]!;
    }
    out[qOff + d] = a0;
    out[qOff + d + 1] = a1;
  }
}

/** RoPE in place on `nHeads` heads starting at `offset`, with this position's cosines and sines. */
function rotate(
  v: Float32Array,
  offset: number,
  nHeads: number,
  hs: number,
  half: number,
  interleaved: boolean,
  cos: Float64Array,
  sin: Float64Array,
): void {
  for (let h = 0; h < nHeads; h++) {
    const off = offset + h * hs;
    for (let i = 0; i < half; i++) {
      const ia = interleaved ? off + 2 * i : off + i;
      const ib = interleaved ? ia + 1 : ia + half;
      const a = v[ia]!;
      const b = v[ib]!;
      const c = cos[i]!;
      const s = sin[i]!;
      v[ia] = a * c - b * s;
      v[ib] = a * s + b * c;
    }
  }
}

/**
 * h[j] = silu(gate_j) · up_j with gate = w1·x and up = w3·x, fused: both projections of a row are accumulated
 * together and rounded to float32 (as the reference stores them) before the SiLU, which uses the same
 * `g · (1 / (1 + exp(-g))) · u` expression as the reference.
 */
function swigluRows(h: Float32Array, x: Float32Array, w1: Float32Array, w3: Float32Array, rows: number, n: number) {
  let j = 0;
  for (; j + 4 <= rows; j += 4) {
    const r0 = j * n;
    let g0 = 0;
    let g1 = 0;
    let g2 = 0;
    let g3 = 0;
    let u0 = 0;
    let u1 = 0;
    let u2 = 0;
    let u3 = 0;
    for (let p = 0, r = r0; p < n; p++, r++) {
      const xp = x[p]!;
      g0 += xp * w1[r]!;
      g1 += xp * w1[r + n]!;
      g2 += xp * w1[r + 2 * n]!;
      g3 += xp * w1[r + 3 * n]!;
      u0 += xp * w3[r]!;
      u1 += xp * w3[r + n]!;
      u2 += xp * w3[r + 2 * n]!;
      u3 += xp * w3[r + 3 * n]!;
    }
    h[j] = silu(Math.fround(g0)) * Math.fround(u0);
    h[j + 1] = silu(Math.fround(g1)) * Math.fround(u1);
    h[j + 2] = silu(Math.fround(g2)) * Math.fround(u2);
    h[j + 3] = silu(Math.fround(g3)) * Math.fround(u3);
  }
  for (; j < rows; j++) {
    const r = j * n;
    let g = 0;
    let u = 0;
    for (let p = 0; p < n; p++) {
      g += x[p]! * w1[r + p]!;
      u += x[p]! * w3[r + p]!;
    }
    h[j] = silu(Math.fround(g)) * Math.fround(u);
  }
}

/** g · σ(g), evaluated as the reference backend does: `g * (1 / (1 + exp(-g)))`. */
function silu(g: number): number {
  return g * (1 / (1 + Math.exp(-g)));
}

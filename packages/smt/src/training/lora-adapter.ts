/**
 * LoRA and DoRA adapters of one linear layer, following Hugging Face PEFT (`tuners/lora/layer.py` and
 * `tuners/lora/dora.py`): y = W0·x + s·B(A·x) with s = alpha / r (or alpha / √r for rsLoRA), A initialised
 * Kaiming-uniform with a = √5 (i.e. U(−1/√in, 1/√in)) and B initialised to zero; DoRA adds one magnitude per
 * output row and rescales each row by m / ‖W0 + s·BA‖, the norm being recomputed every forward pass but treated
 * as a constant in the backward pass (PEFT's detach, DoRA §4.3).
 *
 * @module
 */

import type { KernelBackend } from '../kernels/backend.ts';
import type { Rng } from '../kernels/reference/random.ts';

/** Trainable tensors of one adapted linear layer `W0 [out, in]`. */
export interface LoraAdapter {
  /** Adapter rank r. */
  rank: number;
  /** Scaling s applied to the low-rank branch (alpha / r, or alpha / √r with rsLoRA). */
  scale: number;
  /** Output width of the adapted layer. */
  outDim: number;
  /** Input width of the adapted layer. */
  inDim: number;
  /** Down projection A `[r, in]`. */
  a: Float32Array;
  /** Up projection B `[out, r]`. */
  b: Float32Array;
  /** DoRA only: one magnitude per output row `[out]`. */
  magnitude?: Float32Array;
}

/**
 * Row norms ‖W[i, :]‖₂ of a `[rows, cols]` matrix, each summed in float64 in ascending column order and
 * rounded to float32 on store, so two calls over equal rows give equal values bit for bit.
 */
export function rowNorms(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows);
  for (let i = 0; i < rows; i++) {
    let sum = 0;
    for (let j = 0; j < cols; j++) sum += w[i * cols + j]! * w[i * cols + j]!;
    out[i] = Math.sqrt(sum);
  }
  return out;
}

/**
 * Creates an adapter for `W0 [outDim, inDim]`: A ~ U(−1/√in, 1/√in) from `rng` (PEFT's
 * `kaiming_uniform_(a=√5)`), B = 0, and for DoRA the magnitudes m_i = ‖W0[i, :]‖₂, so that at initialisation the
 * adapted layer computes exactly W0·x.
 */
export function createLoraAdapter(
  w0: Float32Array,
  outDim: number,
  inDim: number,
  options: { rank: number; alpha: number; rsLora?: boolean; dora?: boolean; rng: Rng },
): LoraAdapter {
  const { rank, alpha } = options;
  const bound = 1 / Math.sqrt(inDim);
  const a = new Float32Array(rank * inDim);
  for (let i = 0; i < a.length; i++) a[i] = bound * (2 * options.rng() - 1);
  return {
    rank,
    scale: options.rsLora ? alpha / Math.sqrt(rank) : alpha / rank,
    outDim,
    inDim,
    a,
    b: new Float32Array(outDim * rank),
    ...(options.dora ? { magnitude: rowNorms(w0, outDim, inDim) } : {}),
  };
}

/** W0 + s·B·A, `[out, in]` (a fresh array). */
export function adaptedWeight(backend: KernelBackend, w0: Float32Array, adapter: LoraAdapter): Float32Array {
  const { outDim, inDim, rank, scale } = adapter;
  const ba = backend.matmul(adapter.b, adapter.a, outDim, rank, inDim);
  for (let i = 0; i < ba.length; i++) ba[i] = w0[i]! + scale * ba[i]!;
  return ba;
}

/**
 * DoRA's per-row factor c_i = m_i / ‖W0 + s·BA‖_i together with the norms themselves. The norm is a constant
 * for the backward pass (PEFT detaches it).
 */
export function doraRowScale(
  backend: KernelBackend,
  w0: Float32Array,
  adapter: LoraAdapter,
): { scale: Float32Array; norm: Float32Array } {
  const magnitude = adapter.magnitude;
  if (!magnitude) throw new TypeError('doraRowScale needs a DoRA adapter (one with magnitudes).');
  const norm = rowNorms(adaptedWeight(backend, w0, adapter), adapter.outDim, adapter.inDim);
  const scale = new Float32Array(adapter.outDim);
  for (let i = 0; i < scale.length; i++) scale[i] = magnitude[i]! / norm[i]!;
  return { scale, norm };
}

/**
 * The merged weight of an adapted layer, as PEFT's `merge_and_unload`: LoRA gives W0 + s·BA; DoRA gives
 * (m / ‖W0 + s·BA‖) ⊙_row (W0 + s·BA). Returns a fresh `[out, in]` array.
 */
export function mergeLoraAdapter(backend: KernelBackend, w0: Float32Array, adapter: LoraAdapter): Float32Array {
  const merged = adaptedWeight(backend, w0, adapter);
  if (!adapter.magnitude) return merged;
  const { outDim, inDim } = adapter;
  const norm = rowNorms(merged, outDim, inDim);
  for (let i = 0; i < outDim; i++) {
    const c = adapter.magnitude[i]! / norm[i]!;
    for (let j = 0; j < inDim; j++) merged[i * inDim + j] = merged[i * inDim + j]! * c;
  }
  return merged;
}

/**
 * The kernel interface shared by the three backends (`reference`, `wasm`, `gpujs`). Every tensor is a dense
 * row-major `Float32Array`; shapes are passed explicitly. Kernels never keep references to their inputs, and
 * return freshly allocated outputs unless an `out` buffer is given. All kernels are synchronous at this level:
 * multi-threaded backends block until their workers finish (they are used from a training loop that owns the
 * thread), and the gpujs backend reads results back.
 *
 * Conventions:
 * - A matrix `[rows, cols]` stores element (r, c) at `r * cols + c`.
 * - "W" matrices are `[out, in]` as in PyTorch's `nn.Linear` and llama2.c (y = x · Wᵀ).
 * - Sequences are `[T, D]` for one sequence (batching is done by the caller looping or by stacking rows).
 *
 * @module
 */

/** Names of the available backends. */
export type BackendName = 'reference' | 'wasm' | 'gpujs';

/** A selected block of a weight matrix: rows `[rowBlock·bs, +bs)`, columns `[colBlock·bs, +bs)`. */
export interface BlockIndex {
  /** Block row (output-dimension block). */
  rowBlock: number;
  /** Block column (input-dimension block). */
  colBlock: number;
}

/** Which RoPE pairing to use. */
export type RopeLayout =
  /** llama2.c / Meta: dimensions (2i, 2i+1) rotate together. */
  | 'interleaved'
  /** Hugging Face: dimension i rotates with i + headDim/2 (`rotate_half`). */
  | 'rotate-half';

/** Hyper-parameters of one Adam/AdamW step. */
export interface AdamParams {
  /** Learning rate for this step. */
  lr: number;
  /** First-moment decay (default 0.9). */
  beta1: number;
  /** Second-moment decay (default 0.999). */
  beta2: number;
  /** Denominator epsilon (default 1e-8). */
  eps: number;
  /** Decoupled (AdamW) weight decay; 0 for plain Adam. */
  weightDecay: number;
  /** 1-based step number used for bias correction. */
  step: number;
}

/** Saved forward quantities of causal attention, needed by its backward. */
export interface AttentionCache {
  /** Softmax probabilities `[nHeads, T, T]` (row t only has entries ≤ t). */
  probs: Float32Array;
}

/** The compute kernels. */
export interface KernelBackend {
  /** Which backend this is. */
  readonly name: BackendName;
  /** For gpujs: the mode that actually ran (`gpu`, `webgl2`, `cpu`, …); otherwise the backend name. */
  readonly mode: string;

  /**
   * C[m, n] = op(A) · op(B), where op(A) is `[m, k]` and op(B) is `[k, n]`.
   * With `transA`, A is stored `[k, m]`; with `transB`, B is stored `[n, k]`.
   * If `accumulate` is true, the product is added into `out` (which must then be given).
   */
  matmul(
    a: Float32Array,
    b: Float32Array,
    m: number,
    k: number,
    n: number,
    options?: { transA?: boolean; transB?: boolean; out?: Float32Array; accumulate?: boolean },
  ): Float32Array;

  /**
   * Block-sparse weight gradient of a linear layer y = x · Wᵀ with W `[outDim, inDim]`:
   * for each selected block k, dS[k] = G[:, rows_k]ᵀ · X[:, cols_k], a `[bs, bs]` matrix, where
   * G = dL/dy `[m, outDim]` and X `[m, inDim]`. Output is `[blocks.length, bs, bs]`, block after block.
   * Only the selected blocks are computed.
   */
  blockSparseWeightGrad(
    g: Float32Array,
    x: Float32Array,
    m: number,
    outDim: number,
    inDim: number,
    blocks: readonly BlockIndex[],
    blockSize: number,
  ): Float32Array;

  /**
   * Per-block scores of a `[rows, cols]` matrix split into `blockSize` squares (rows and cols must be
   * multiples of blockSize). Returns `[rows/bs, cols/bs]` arrays of mean |·| (`meanAbs`) and |mean| (`absMean`).
   */
  blockScores(
    matrix: Float32Array,
    rows: number,
    cols: number,
    blockSize: number,
  ): { meanAbs: Float32Array; absMean: Float32Array };

  /** y[t] = x[t] / sqrt(mean(x[t]²) + eps) ⊙ weight, for x `[T, D]`. Returns y and the per-row inverse RMS. */
  rmsnormForward(
    x: Float32Array,
    weight: Float32Array,
    T: number,
    D: number,
    eps: number,
  ): { y: Float32Array; invRms: Float32Array };
  /** Gradients of RMSNorm w.r.t. x and weight, given dy and the forward's invRms. */
  rmsnormBackward(
    dy: Float32Array,
    x: Float32Array,
    weight: Float32Array,
    invRms: Float32Array,
    T: number,
    D: number,
  ): { dx: Float32Array; dWeight: Float32Array };

  /**
   * Rotary embedding in place on x `[T, nHeads, headDim]` for positions `pos0 … pos0+T-1`, with frequency
   * θ_i = base^(-2i/headDim). `inverse` applies the transposed rotation (used by the backward pass).
   */
  rope(
    x: Float32Array,
    T: number,
    nHeads: number,
    headDim: number,
    pos0: number,
    options: { layout: RopeLayout; base?: number; inverse?: boolean },
  ): void;

  /**
   * Causal self-attention with grouped-query heads for one sequence. q `[T, nHeads, headDim]`,
   * k and v `[S, nKvHeads, headDim]` where S ≥ T and query t sits at absolute position `S - T + t`
   * (so cached keys precede the new ones); head h reads kv head `floor(h / (nHeads / nKvHeads))`.
   * Scores are scaled by 1/sqrt(headDim). Returns out `[T, nHeads, headDim]` and the cache for backward.
   */
  attentionForward(
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    T: number,
    S: number,
    nHeads: number,
    nKvHeads: number,
    headDim: number,
  ): { out: Float32Array; cache: AttentionCache };
  /** Gradients of {@link KernelBackend.attentionForward} (T = S, training). */
  attentionBackward(
    dOut: Float32Array,
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    cache: AttentionCache,
    T: number,
    nHeads: number,
    nKvHeads: number,
    headDim: number,
  ): { dq: Float32Array; dk: Float32Array; dv: Float32Array };

  /** h = silu(gate) ⊙ up, elementwise over `length` values. */
  swigluForward(gate: Float32Array, up: Float32Array): Float32Array;
  /** Gradients of SwiGLU w.r.t. gate and up. */
  swigluBackward(dh: Float32Array, gate: Float32Array, up: Float32Array): { dGate: Float32Array; dUp: Float32Array };

  /**
   * Mean softmax cross-entropy of logits `[T, V]` against integer targets, counting only rows whose mask is 1
   * (mask may be omitted: all rows count). Returns the loss, the number of counted rows and dLogits
   * (already divided by that count; zero rows where the mask is 0).
   */
  crossEntropy(
    logits: Float32Array,
    targets: Int32Array,
    T: number,
    V: number,
    mask?: Uint8Array,
  ): { loss: number; count: number; dLogits: Float32Array };

  /** One Adam/AdamW update in place over dense `param`, `grad`, `m`, `v` (all the same length). */
  adamUpdate(param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, p: AdamParams): void;

  /**
   * One Adam/AdamW update in place over selected blocks of a `[rows, cols]` weight: `grads`, `m` and `v` are
   * packed `[blocks.length, bs, bs]` (as produced by blockSparseWeightGrad); only those blocks of `param` change.
   */
  adamUpdateBlocks(
    param: Float32Array,
    cols: number,
    blocks: readonly BlockIndex[],
    blockSize: number,
    grads: Float32Array,
    m: Float32Array,
    v: Float32Array,
    p: AdamParams,
  ): void;

  /** Releases workers, GPU contexts and memory. The backend must not be used afterwards. */
  dispose?(): void | Promise<void>;
}

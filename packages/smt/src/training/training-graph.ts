/**
 * The training forward and backward pass of a LLaMA-architecture model over a batch of token sequences, built
 * from the {@link KernelBackend} kernels. The forward pass records only the activations the backward pass will
 * read (a "tape"), as decided by a {@link GradientPlan} that says which tensors receive gradients and how:
 * dense (full fine-tuning), selected blocks only (SMT), through a LoRA/DoRA adapter, or not at all.
 *
 * What the plan buys:
 * - Layers below the lowest layer with anything trainable run forward only: nothing is saved for them and no
 *   backward kernel runs there (SMT §2.4, "stop back-propagation there").
 * - Inside the lowest layer, only the parts of the backward pass that lead to a trainable tensor run.
 * - A block-sparse matrix keeps only the input column slices its selected blocks read (SMT §3.2), and its weight
 *   gradient is computed for those blocks alone with `blockSparseWeightGrad`.
 * - With per-layer checkpointing (`checkpointing: 'layer'`) the forward keeps only the input of each layer whose
 *   backward runs, and the backward recomputes that layer's tape just before back-propagating through it.
 *
 * Sequences of a batch are stacked row-wise for the projections and norms; RoPE and attention run per sequence
 * (positions restart at 0 for each). The loss is the mean cross-entropy over every counted target of the batch.
 *
 * @module
 */

import { DspyError } from '@dspy-ts/core';
import type { AttentionCache, BlockIndex, KernelBackend } from '../kernels/backend.ts';
import { headDim, kvDim, type LlamaConfig, type LlamaWeights } from '../model/llama-config.ts';
import { doraRowScale, type LoraAdapter } from './lora-adapter.ts';

/** The seven weight matrices of a transformer block, by their {@link LlamaWeights} layer keys. */
export type MatrixName = 'wq' | 'wk' | 'wv' | 'wo' | 'w1' | 'w2' | 'w3';

/** All matrix names, in llama2.c file order. */
export const MATRIX_NAMES: readonly MatrixName[] = ['wq', 'wk', 'wv', 'wo', 'w1', 'w2', 'w3'];

/** How one weight matrix takes part in training. Gradient buffers are accumulated into (never overwritten). */
export type LinearMode =
  /** No gradient for this matrix (gradients still flow through it to its input when needed). */
  | { kind: 'frozen' }
  /** Full gradient `[out, in]` accumulated into `grad`. */
  | { kind: 'dense'; grad: Float32Array }
  /** Gradients of the selected blocks only, packed `[blocks.length, bs, bs]` as `blockSparseWeightGrad` returns. */
  | { kind: 'blocks'; blocks: readonly BlockIndex[]; blockSize: number; grad: Float32Array }
  /** A LoRA (or, with magnitudes, DoRA) adapter; the base matrix is frozen. */
  | {
      kind: 'adapter';
      adapter: LoraAdapter;
      gradA: Float32Array;
      gradB: Float32Array;
      /** DoRA only. */
      gradMagnitude?: Float32Array;
    };

/** Gradient plan of one transformer block. An absent norm gradient buffer means the norm is frozen. */
export interface LayerPlan {
  /** Gradient of the attention RMSNorm weight, when trained. */
  attnNorm?: Float32Array;
  /** Gradient of the feed-forward RMSNorm weight, when trained. */
  ffnNorm?: Float32Array;
  /** Mode of each weight matrix. */
  matrices: Record<MatrixName, LinearMode>;
}

/**
 * Which tensors receive gradients, with the buffers they accumulate into. When the classifier is shared with the
 * embedding, pass the same buffer for both (or only one of them to train the shared matrix through one use).
 */
export interface GradientPlan {
  /** Gradient of the token embedding `[vocab, dim]`, when trained. */
  tokenEmbedding?: Float32Array;
  /** Gradient of the classifier `[vocab, dim]`, when trained. */
  classifier?: Float32Array;
  /** Gradient of the final RMSNorm weight, when trained. */
  finalNorm?: Float32Array;
  /** One entry per layer. */
  layers: LayerPlan[];
}

/** A batch of sequences stacked row-wise, ready for {@link TrainingGraph.run}. */
export interface TrainingBatch {
  /** Input token ids of all sequences, one after the other. */
  inputs: Int32Array;
  /** Target id of each input position (the next token). */
  targets: Int32Array;
  /** 1 where the target counts towards the loss. */
  mask: Uint8Array;
  /** Length of each sequence; they sum to `inputs.length`. */
  lengths: readonly number[];
}

/**
 * Activation memory of a training step (`'none'`: the forward keeps every layer's tape; `'layer'`: it keeps only
 * each layer's input and the backward recomputes one layer's tape at a time, just before back-propagating through
 * it). Gradients are the same bit for bit either way; `'layer'` costs one more forward pass per step.
 */
export type CheckpointingMode = 'none' | 'layer';

/** Options of a {@link TrainingGraph}. */
export interface TrainingGraphOptions {
  /** Per-layer gradient checkpointing (default `'none'`). */
  checkpointing?: CheckpointingMode;
}

/** Where a step's activation bytes go (see {@link GraphRunResult.activationBytes}). */
export interface ActivationParts {
  /**
   * What the forward pass stored for the backward pass: every backward-running layer's tape, or with
   * checkpointing those layers' inputs.
   */
  stored: number;
  /** With checkpointing, the largest recomputed layer tape (its input not counted twice); otherwise 0. */
  recomputedLayer: number;
  /**
   * The head when the loss is known: logits and their gradient `[N, vocab]` each, plus the final norm's input and
   * output where its backward or the classifier's gradient reads them.
   */
  head: number;
}

/** Result of {@link TrainingGraph.run}. */
export interface GraphRunResult {
  /** Mean cross-entropy over the counted targets (0 when none counts). */
  loss: number;
  /** Number of counted targets. */
  count: number;
  /**
   * Peak bytes of activations held at once for the backward pass (0 for a loss-only run): the larger of
   * `stored + head` (when the loss is known) and, with checkpointing, the still-stored layer inputs plus the
   * recomputed tape of the layer being back-propagated. Tapes and inputs of layers already back-propagated are
   * released and not counted. Short-lived buffers inside one layer's forward or backward (the same as
   * inference's working memory, or the gradient flowing back) are not counted.
   */
  activationBytes: number;
  /** The parts the peak is built from. */
  activationParts: ActivationParts;
}

/** A frozen plan: every matrix frozen, no gradient buffers. Useful for loss-only evaluation. */
export function frozenPlan(config: LlamaConfig): GradientPlan {
  return {
    layers: Array.from({ length: config.nLayers }, () => ({
      matrices: Object.fromEntries(MATRIX_NAMES.map((name) => [name, { kind: 'frozen' }])) as Record<
        MatrixName,
        LinearMode
      >,
    })),
  };
}

/** Which parts of one layer's backward pass run, derived from the plan. */
interface LayerFlags {
  /** Anything in this layer's backward runs. */
  run: boolean;
  /** The gradient with respect to the residual between attention and FFN is needed. */
  needMid: boolean;
  /** The SwiGLU backward runs (gradient w.r.t. the hidden activation). */
  needDh: boolean;
  /** Gradient w.r.t. the FFN norm output. */
  needDxf: boolean;
  /** Attention backward runs (gradient w.r.t. q, k, v). */
  needAttn: boolean;
  /** Gradient w.r.t. the attention norm output. */
  needDxb: boolean;
}

/** The input of one or more linear layers, and what of it the tape keeps. */
interface SiteLayout {
  /** Keep the whole input. */
  full: boolean;
  /** Otherwise keep these column blocks (ascending) of width `blockSize`, packed side by side. */
  columns: number[];
  /** Block size of the packed columns. */
  blockSize: number;
  /** Width of the packed input. */
  width: number;
  /** Per block-sparse consumer: its blocks with column indices into the packed input. */
  packedBlocks: Map<MatrixName, BlockIndex[]>;
}

interface AdapterSaved {
  ax: Float32Array;
  u?: Float32Array;
  rowScale?: Float32Array;
  norm?: Float32Array;
}

interface LayerTape {
  xIn?: Float32Array;
  invRms1?: Float32Array;
  attnIn?: Float32Array;
  q?: Float32Array;
  k?: Float32Array;
  v?: Float32Array;
  caches?: AttentionCache[];
  att?: Float32Array;
  xMid?: Float32Array;
  invRms2?: Float32Array;
  ffnIn?: Float32Array;
  gate?: Float32Array;
  up?: Float32Array;
  h?: Float32Array;
  adapters: Partial<Record<MatrixName, AdapterSaved>>;
}

const SITE_OF: Record<MatrixName, 'attnIn' | 'att' | 'ffnIn' | 'h'> = {
  wq: 'attnIn',
  wk: 'attnIn',
  wv: 'attnIn',
  wo: 'att',
  w1: 'ffnIn',
  w3: 'ffnIn',
  w2: 'h',
};

const isTrained = (mode: LinearMode) => mode.kind !== 'frozen';

/**
 * Forward and backward pass of one model under one {@link GradientPlan}. The graph reads the weights and adapter
 * tensors by reference at every run, so in-place optimizer updates between runs are picked up.
 *
 * @example
 * ```ts
 * const grad = new Float32Array(weights.layers[1].wv.length);
 * const plan = frozenPlan(config);
 * plan.layers[1].matrices.wv = { kind: 'dense', grad };
 * const graph = new TrainingGraph(config, weights, plan, createReferenceBackend());
 * const { loss } = graph.run(batch); // grad now holds dLoss/dWv of layer 1; layer 0 ran forward only
 * ```
 */
export class TrainingGraph {
  /** Hyper-parameters of the model. */
  readonly config: LlamaConfig;
  /** The weights (read at every run). */
  readonly weights: LlamaWeights;
  /** The gradient plan. */
  readonly plan: GradientPlan;
  /** The kernels. */
  readonly backend: KernelBackend;
  /**
   * Lowest layer whose backward pass runs; `nLayers` when only the head (final norm, classifier) or nothing is
   * trained. Layers below it only run forward.
   */
  readonly stopLayer: number;
  /** Activation checkpointing of {@link run}'s backward passes. */
  readonly checkpointing: CheckpointingMode;
  readonly #flags: LayerFlags[];
  readonly #sites: Record<'attnIn' | 'att' | 'ffnIn' | 'h', SiteLayout>[];
  readonly #needHeadGrad: boolean;

  /** Derives, once, which backward parts run and what each layer saves. */
  constructor(
    config: LlamaConfig,
    weights: LlamaWeights,
    plan: GradientPlan,
    backend: KernelBackend,
    options: TrainingGraphOptions = {},
  ) {
    if (plan.layers.length !== config.nLayers) {
      throw new DspyError(
        'invalid_argument',
        `The gradient plan has ${plan.layers.length} layers; the model has ${config.nLayers}.`,
      );
    }
    const checkpointing = options.checkpointing ?? 'none';
    if (checkpointing !== 'none' && checkpointing !== 'layer') {
      throw new DspyError(
        'invalid_argument',
        `checkpointing must be 'none' or 'layer', got '${String(checkpointing)}'.`,
      );
    }
    this.checkpointing = checkpointing;
    this.config = config;
    this.weights = weights;
    this.plan = plan;
    this.backend = backend;
    const { dim, hiddenDim } = config;
    this.#flags = [];
    let below = plan.tokenEmbedding !== undefined;
    for (const layer of plan.layers) {
      const m = layer.matrices;
      const qkv = isTrained(m.wq) || isTrained(m.wk) || isTrained(m.wv);
      const attn = qkv || isTrained(m.wo) || layer.attnNorm !== undefined;
      const ffn = isTrained(m.w1) || isTrained(m.w2) || isTrained(m.w3) || layer.ffnNorm !== undefined;
      const needMid = below || attn;
      const needDxb = below || layer.attnNorm !== undefined;
      this.#flags.push({
        run: needMid || ffn,
        needMid,
        needDh: needMid || isTrained(m.w1) || isTrained(m.w3) || layer.ffnNorm !== undefined,
        needDxf: needMid || layer.ffnNorm !== undefined,
        needAttn: qkv || needDxb,
        needDxb,
      });
      below = below || attn || ffn;
    }
    this.#needHeadGrad = below || plan.finalNorm !== undefined;
    const stop = this.#flags.findIndex((f) => f.run);
    this.stopLayer = stop < 0 ? config.nLayers : stop;
    this.#sites = plan.layers.map((layer) => {
      const site = (name: 'attnIn' | 'att' | 'ffnIn' | 'h', inDim: number) =>
        siteLayout(
          MATRIX_NAMES.filter((n) => SITE_OF[n] === name),
          layer.matrices,
          inDim,
        );
      return {
        attnIn: site('attnIn', dim),
        att: site('att', dim),
        ffnIn: site('ffnIn', dim),
        h: site('h', hiddenDim),
      };
    });
  }

  /**
   * Runs the forward pass over `batch` and, unless `backward` is false, the backward pass, accumulating every
   * gradient of the plan. Returns the loss and the activation bytes held for the backward pass (see
   * {@link GraphRunResult.activationBytes}). `sample`, when given, is called at each point where the held
   * activations may peak (after the loss, and in each layer's backward once its tape exists), so a caller can
   * measure process memory there.
   */
  run(batch: TrainingBatch, options: { backward?: boolean; sample?: () => void } = {}): GraphRunResult {
    const backward = options.backward ?? true;
    const { config, weights } = this;
    const { dim, vocabSize } = config;
    const N = batch.inputs.length;
    checkBatch(batch, vocabSize);
    const checkpointing = backward && this.checkpointing === 'layer';

    let x: Float32Array = new Float32Array(N * dim);
    for (let t = 0; t < N; t++) {
      const token = batch.inputs[t]!;
      x.set(weights.tokenEmbedding.subarray(token * dim, (token + 1) * dim), t * dim);
    }
    // Without checkpointing: the tape of every layer whose backward runs. With it: the input of every such layer.
    const tapes: (LayerTape | undefined)[] = [];
    const inputs: (Float32Array | undefined)[] = [];
    const storedBytes: number[] = new Array(config.nLayers).fill(0);
    for (let l = 0; l < config.nLayers; l++) {
      const record = backward && this.#flags[l]!.run;
      if (record && checkpointing) {
        inputs[l] = x;
        storedBytes[l] = x.byteLength;
      }
      const r = this.#layerForward(l, x, batch, record && !checkpointing);
      if (r.tape) {
        tapes[l] = r.tape;
        storedBytes[l] = r.bytes;
      }
      x = r.out;
    }

    const stored = storedBytes.reduce((s, n) => s + n, 0);
    // The head lives in its own call, so the [N, vocab] logits and their gradient are released before any layer's
    // backward (or recomputed tape) starts.
    const { loss, count, bytes: headBytes, dx: headDx } = this.#head(x, batch, backward, options.sample);
    if (!headDx) {
      const held = backward && count > 0;
      return {
        loss,
        count,
        activationBytes: held ? stored + headBytes : 0,
        activationParts: { stored: held ? stored : 0, recomputedLayer: 0, head: headBytes },
      };
    }
    let dx = headDx;
    let peak = stored + headBytes;
    let recomputedLayer = 0;
    // Stored bytes of the layers not yet back-propagated (each layer's share is released after its backward).
    let held = stored;
    for (let l = config.nLayers - 1; l >= this.stopLayer; l--) {
      let tape = tapes[l]!;
      if (checkpointing) {
        // Recompute this layer's forward from its stored input, exactly as the first forward ran it, so the tape
        // (and every gradient computed from it) is bit-identical to the non-checkpointed one.
        const input = inputs[l]!;
        const r = this.#layerForward(l, input, batch, true);
        tape = r.tape!;
        // The tape's copy of the layer input is the stored checkpoint itself: count it once.
        const extra = r.bytes - (tape.xIn === input ? input.byteLength : 0);
        recomputedLayer = Math.max(recomputedLayer, extra);
        peak = Math.max(peak, held + extra);
      }
      options.sample?.();
      dx = this.#layerBackward(l, tape, dx, batch);
      tapes[l] = undefined;
      inputs[l] = undefined;
      held -= storedBytes[l]!;
    }
    if (this.plan.tokenEmbedding) {
      const grad = this.plan.tokenEmbedding;
      for (let t = 0; t < N; t++) {
        const row = batch.inputs[t]! * dim;
        for (let d = 0; d < dim; d++) grad[row + d] = grad[row + d]! + dx[t * dim + d]!;
      }
    }
    return {
      loss,
      count,
      activationBytes: peak,
      activationParts: { stored, recomputedLayer, head: headBytes },
    };
  }

  /**
   * Final norm, classifier and loss on the last layer's output `x`; with `backward`, also the classifier's and the
   * final norm's gradients and the gradient at `x` (`dx`, absent when nothing below the head trains or no target
   * counts). `bytes`: what is held when the loss is known (see {@link ActivationParts.head}); `sample` is called
   * then.
   */
  #head(
    x: Float32Array,
    batch: TrainingBatch,
    backward: boolean,
    sample: (() => void) | undefined,
  ): { loss: number; count: number; bytes: number; dx?: Float32Array } {
    const { config, weights, backend: b } = this;
    const { dim, vocabSize, normEps } = config;
    const N = batch.inputs.length;
    const nf = b.rmsnormForward(x, weights.finalNorm, N, dim, normEps);
    const logits = b.matmul(nf.y, weights.classifier, N, dim, vocabSize, { transB: true });
    const ce = b.crossEntropy(logits, batch.targets, N, vocabSize, batch.mask);
    if (!backward || ce.count === 0) return { loss: ce.loss, count: ce.count, bytes: 0 };
    // Held when the cross-entropy returns: the logits and their gradient, the final norm's input (for its
    // backward) and output (for the classifier's gradient).
    const bytes =
      logits.byteLength +
      ce.dLogits.byteLength +
      (this.#needHeadGrad ? x.byteLength + nf.invRms.byteLength : 0) +
      (this.plan.classifier ? nf.y.byteLength : 0);
    sample?.();
    const dLogits = ce.dLogits;
    if (this.plan.classifier) {
      b.matmul(dLogits, nf.y, vocabSize, N, dim, { transA: true, out: this.plan.classifier, accumulate: true });
    }
    if (!this.#needHeadGrad) return { loss: ce.loss, count: ce.count, bytes };
    const dxF = b.matmul(dLogits, weights.classifier, N, vocabSize, dim);
    const fin = b.rmsnormBackward(dxF, x, weights.finalNorm, nf.invRms, N, dim);
    if (this.plan.finalNorm) addInto(this.plan.finalNorm, fin.dWeight);
    return { loss: ce.loss, count: ce.count, bytes, dx: fin.dx };
  }

  /**
   * Forward of layer `l` on its input `x`; with `record`, also the tape its backward reads and the tape's bytes.
   * Pure in `x` (never modified), so running it twice on the same input gives the same values bit for bit.
   */
  #layerForward(
    l: number,
    x: Float32Array,
    batch: TrainingBatch,
    record: boolean,
  ): { out: Float32Array; tape?: LayerTape; bytes: number } {
    const { config, weights, backend: b } = this;
    const { dim, hiddenDim, nHeads, nKvHeads, normEps } = config;
    const hs = headDim(config);
    const kv = kvDim(config);
    const N = batch.inputs.length;
    const rope = { layout: config.ropeLayout, base: config.ropeBase };
    const layer = weights.layers[l]!;
    const plan = this.plan.layers[l]!;
    const flags = this.#flags[l]!;
    const sites = this.#sites[l]!;
    let saved = 0;
    const keep = <T extends Float32Array | undefined>(array: T): T => {
      if (array) saved += array.byteLength;
      return array;
    };
    const tape: LayerTape = { adapters: {} };
    const lin = (name: MatrixName, input: Float32Array, inDim: number, outDim: number, residual?: Float32Array) => {
      const { y, extra } = linearForward(b, plan.matrices[name], layer[name], input, N, inDim, outDim, residual);
      if (record && extra) {
        tape.adapters[name] = extra;
        for (const value of Object.values(extra)) keep(value as Float32Array);
      }
      return y;
    };

    const n1 = b.rmsnormForward(x, layer.attnNorm, N, dim, normEps);
    const q = lin('wq', n1.y, dim, dim);
    const k = lin('wk', n1.y, dim, kv);
    const v = lin('wv', n1.y, dim, kv);
    const att = new Float32Array(N * dim);
    const caches: AttentionCache[] = [];
    forSegments(batch.lengths, (start, T) => {
      const qs = q.subarray(start * dim, (start + T) * dim);
      const ks = k.subarray(start * kv, (start + T) * kv);
      b.rope(qs, T, nHeads, hs, 0, rope);
      b.rope(ks, T, nKvHeads, hs, 0, rope);
      const r = b.attentionForward(qs, ks, v.subarray(start * kv, (start + T) * kv), T, T, nHeads, nKvHeads, hs);
      att.set(r.out, start * dim);
      caches.push(r.cache);
    });
    const xMid = lin('wo', att, dim, dim, x);
    const n2 = b.rmsnormForward(xMid, layer.ffnNorm, N, dim, normEps);
    const gate = lin('w1', n2.y, dim, hiddenDim);
    const up = lin('w3', n2.y, dim, hiddenDim);
    const h = b.swigluForward(gate, up);
    const out = lin('w2', h, hiddenDim, dim, xMid);
    if (!record) return { out, bytes: 0 };

    if (flags.needDxb) {
      tape.xIn = keep(x);
      tape.invRms1 = keep(n1.invRms);
    }
    tape.attnIn = keep(siteInput(sites.attnIn, n1.y, N, dim));
    if (flags.needAttn) {
      tape.q = keep(q);
      tape.k = keep(k);
      tape.v = keep(v);
      tape.caches = caches;
      for (const c of caches) keep(c.probs);
    }
    tape.att = keep(siteInput(sites.att, att, N, dim));
    if (flags.needDxf) {
      tape.xMid = keep(xMid);
      tape.invRms2 = keep(n2.invRms);
    }
    tape.ffnIn = keep(siteInput(sites.ffnIn, n2.y, N, dim));
    if (flags.needDh) {
      tape.gate = keep(gate);
      tape.up = keep(up);
    }
    tape.h = keep(siteInput(sites.h, h, N, hiddenDim));
    return { out, tape, bytes: saved };
  }

  /** Backward through layer `l` given the gradient at its output; returns the gradient at its input. */
  #layerBackward(l: number, tape: LayerTape, dOut: Float32Array, batch: TrainingBatch): Float32Array {
    const b = this.backend;
    const { dim, hiddenDim, nHeads, nKvHeads } = this.config;
    const hs = headDim(this.config);
    const kv = kvDim(this.config);
    const N = batch.inputs.length;
    const layer = this.weights.layers[l]!;
    const plan = this.plan.layers[l]!;
    const flags = this.#flags[l]!;
    const sites = this.#sites[l]!;
    const m = plan.matrices;
    const rope = { layout: this.config.ropeLayout, base: this.config.ropeBase, inverse: true };
    const back = (
      name: MatrixName,
      dy: Float32Array,
      input: Float32Array | undefined,
      site: SiteLayout,
      inDim: number,
      outDim: number,
      needDx: boolean,
      into?: Float32Array,
    ) =>
      linearBackward(
        b,
        m[name],
        name,
        layer[name],
        dy,
        input,
        site,
        tape.adapters[name],
        N,
        inDim,
        outDim,
        needDx,
        into,
      );

    // Feed-forward half.
    const dh = back('w2', dOut, tape.h, sites.h, hiddenDim, dim, flags.needDh);
    let dMid = dOut;
    if (flags.needDh) {
      const sw = b.swigluBackward(dh!, tape.gate!, tape.up!);
      const dxf = back('w1', sw.dGate, tape.ffnIn, sites.ffnIn, dim, hiddenDim, flags.needDxf);
      back('w3', sw.dUp, tape.ffnIn, sites.ffnIn, dim, hiddenDim, flags.needDxf, dxf);
      if (flags.needDxf) {
        const r = b.rmsnormBackward(dxf!, tape.xMid!, layer.ffnNorm, tape.invRms2!, N, dim);
        if (plan.ffnNorm) addInto(plan.ffnNorm, r.dWeight);
        addInto(r.dx, dOut);
        dMid = r.dx;
      }
    }
    if (!flags.needMid) return dMid;

    // Attention half.
    const dAtt = back('wo', dMid, tape.att, sites.att, dim, dim, flags.needAttn);
    if (!flags.needAttn) return dMid;
    const dq = new Float32Array(N * dim);
    const dk = new Float32Array(N * kv);
    const dv = new Float32Array(N * kv);
    let segment = 0;
    forSegments(batch.lengths, (start, T) => {
      const qs = (a: Float32Array) => a.subarray(start * dim, (start + T) * dim);
      const ks = (a: Float32Array) => a.subarray(start * kv, (start + T) * kv);
      const r = b.attentionBackward(
        qs(dAtt!),
        qs(tape.q!),
        ks(tape.k!),
        ks(tape.v!),
        tape.caches![segment++]!,
        T,
        nHeads,
        nKvHeads,
        hs,
      );
      // RoPE is a rotation, so its backward is the inverse rotation of the incoming gradient.
      b.rope(r.dq, T, nHeads, hs, 0, rope);
      b.rope(r.dk, T, nKvHeads, hs, 0, rope);
      dq.set(r.dq, start * dim);
      dk.set(r.dk, start * kv);
      dv.set(r.dv, start * kv);
    });
    const dxb = back('wq', dq, tape.attnIn, sites.attnIn, dim, dim, flags.needDxb);
    back('wk', dk, tape.attnIn, sites.attnIn, dim, kv, flags.needDxb, dxb);
    back('wv', dv, tape.attnIn, sites.attnIn, dim, kv, flags.needDxb, dxb);
    if (!flags.needDxb) return dMid;
    const r = b.rmsnormBackward(dxb!, tape.xIn!, layer.attnNorm, tape.invRms1!, N, dim);
    if (plan.attnNorm) addInto(plan.attnNorm, r.dWeight);
    addInto(r.dx, dMid);
    return r.dx;
  }
}

function checkBatch(batch: TrainingBatch, vocabSize: number): void {
  const N = batch.inputs.length;
  const total = batch.lengths.reduce((s, n) => s + n, 0);
  if (N === 0 || total !== N || batch.targets.length !== N || batch.mask.length !== N) {
    throw new DspyError(
      'invalid_argument',
      `Inconsistent training batch: ${N} inputs, ${batch.targets.length} targets, ${batch.mask.length} mask ` +
        `entries and sequence lengths summing to ${total}; all four must be equal and positive.`,
    );
  }
  for (let t = 0; t < N; t++) {
    const token = batch.inputs[t]!;
    if (token < 0 || token >= vocabSize) {
      throw new DspyError('invalid_argument', `Token id ${token} is outside the vocabulary [0, ${vocabSize}).`);
    }
  }
}

function forSegments(lengths: readonly number[], fn: (start: number, length: number) => void): void {
  let start = 0;
  for (const length of lengths) {
    if (length > 0) fn(start, length);
    start += length;
  }
}

function addInto(target: Float32Array, source: Float32Array): void {
  for (let i = 0; i < target.length; i++) target[i] = target[i]! + source[i]!;
}

/** What the tape keeps of an input shared by `consumers`. */
function siteLayout(consumers: MatrixName[], modes: Record<MatrixName, LinearMode>, inDim: number): SiteLayout {
  const packedBlocks = new Map<MatrixName, BlockIndex[]>();
  const full = consumers.some((n) => modes[n].kind === 'dense' || modes[n].kind === 'adapter');
  const sparse = consumers.filter((n) => modes[n].kind === 'blocks');
  const sizes = new Set(sparse.map((n) => (modes[n] as { blockSize: number }).blockSize));
  if (full || sparse.length === 0 || sizes.size > 1) {
    return { full: full || sparse.length > 0, columns: [], blockSize: 0, width: 0, packedBlocks };
  }
  const blockSize = [...sizes][0]!;
  const columns = [
    ...new Set(sparse.flatMap((n) => (modes[n] as { blocks: readonly BlockIndex[] }).blocks.map((x) => x.colBlock))),
  ].sort((p, q) => p - q);
  const position = new Map(columns.map((c, i) => [c, i]));
  for (const n of sparse) {
    const blocks = (modes[n] as { blocks: readonly BlockIndex[] }).blocks;
    packedBlocks.set(
      n,
      blocks.map(({ rowBlock, colBlock }) => ({ rowBlock, colBlock: position.get(colBlock)! })),
    );
  }
  // A ragged last column block is narrower than blockSize; it sorts last, so the kernels see it as the edge block.
  const width = columns.reduce((w, c) => w + Math.min(blockSize, inDim - c * blockSize), 0);
  return { full: false, columns, blockSize, width, packedBlocks };
}

/** The part of a linear layer's input that the tape keeps: all of it, selected column blocks, or nothing. */
function siteInput(site: SiteLayout, x: Float32Array, N: number, inDim: number): Float32Array | undefined {
  if (site.full) return x;
  if (site.columns.length === 0) return undefined;
  const out = new Float32Array(N * site.width);
  for (let t = 0; t < N; t++) {
    let o = t * site.width;
    for (const c of site.columns) {
      const from = t * inDim + c * site.blockSize;
      const w = Math.min(site.blockSize, inDim - c * site.blockSize);
      out.set(x.subarray(from, from + w), o);
      o += w;
    }
  }
  return out;
}

/**
 * y = x·Wᵀ under `mode`, plus `residual` when given. With a residual the product is accumulated into a copy of
 * it, exactly as the inference runtime adds attention and FFN outputs to the residual stream, so a frozen or
 * fully trained model computes the same values bit for bit in both.
 */
function linearForward(
  b: KernelBackend,
  mode: LinearMode,
  w: Float32Array,
  x: Float32Array,
  N: number,
  inDim: number,
  outDim: number,
  residual?: Float32Array,
): { y: Float32Array; extra?: AdapterSaved } {
  if (mode.kind !== 'adapter') {
    if (!residual) return { y: b.matmul(x, w, N, inDim, outDim, { transB: true }) };
    return { y: b.matmul(x, w, N, inDim, outDim, { transB: true, out: residual.slice(), accumulate: true }) };
  }
  const { adapter } = mode;
  const { rank, scale } = adapter;
  const u = b.matmul(x, w, N, inDim, outDim, { transB: true });
  const ax = b.matmul(x, adapter.a, N, inDim, rank, { transB: true });
  const bax = b.matmul(ax, adapter.b, N, rank, outDim, { transB: true });
  for (let i = 0; i < u.length; i++) u[i] = u[i]! + scale * bax[i]!;
  const y = residual ? residual.slice() : new Float32Array(u.length);
  if (!adapter.magnitude) {
    for (let i = 0; i < u.length; i++) y[i] = y[i]! + u[i]!;
    return { y, extra: { ax } };
  }
  // DoRA: c ⊙ (W0 x + s·B A x) with c = m / ‖W0 + s·BA‖ per output row; the norm is a constant for backward.
  const { scale: rowScale, norm } = doraRowScale(b, w, adapter);
  for (let t = 0; t < N; t++) {
    for (let i = 0; i < outDim; i++) y[t * outDim + i] = y[t * outDim + i]! + rowScale[i]! * u[t * outDim + i]!;
  }
  return { y, extra: { ax, u, rowScale, norm } };
}

/**
 * Backward of one linear layer: accumulates its parameter gradients and, when `needDx`, returns dL/dx (added into
 * `into` when given).
 */
function linearBackward(
  b: KernelBackend,
  mode: LinearMode,
  name: MatrixName,
  w: Float32Array,
  dy: Float32Array,
  input: Float32Array | undefined,
  site: SiteLayout,
  extra: AdapterSaved | undefined,
  N: number,
  inDim: number,
  outDim: number,
  needDx: boolean,
  into?: Float32Array,
): Float32Array | undefined {
  let g = dy;
  switch (mode.kind) {
    case 'frozen':
      break;
    case 'dense':
      b.matmul(dy, input!, outDim, N, inDim, { transA: true, out: mode.grad, accumulate: true });
      break;
    case 'blocks': {
      const packed = !site.full;
      const grad = b.blockSparseWeightGrad(
        dy,
        input!,
        N,
        outDim,
        packed ? site.width : inDim,
        packed ? site.packedBlocks.get(name)! : mode.blocks,
        mode.blockSize,
      );
      addInto(mode.grad, grad);
      break;
    }
    case 'adapter': {
      const { adapter } = mode;
      const { rank, scale } = adapter;
      const saved = extra!;
      if (adapter.magnitude) {
        // dm_i = Σ_t g_ti u_ti / n_i; the rest of the backward sees g ⊙ c.
        const gm = mode.gradMagnitude!;
        g = new Float32Array(dy.length);
        for (let i = 0; i < outDim; i++) {
          let sum = 0;
          const c = saved.rowScale![i]!;
          for (let t = 0; t < N; t++) {
            sum += dy[t * outDim + i]! * saved.u![t * outDim + i]!;
            g[t * outDim + i] = dy[t * outDim + i]! * c;
          }
          gm[i] = gm[i]! + sum / saved.norm![i]!;
        }
      }
      const gb = b.matmul(g, saved.ax, outDim, N, rank, { transA: true });
      for (let i = 0; i < gb.length; i++) mode.gradB[i] = mode.gradB[i]! + scale * gb[i]!;
      const gax = b.matmul(g, adapter.b, N, outDim, rank);
      for (let i = 0; i < gax.length; i++) gax[i] = scale * gax[i]!;
      b.matmul(gax, input!, rank, N, inDim, { transA: true, out: mode.gradA, accumulate: true });
      if (needDx) {
        const dx = b.matmul(g, w, N, outDim, inDim, into ? { out: into, accumulate: true } : {});
        b.matmul(gax, adapter.a, N, rank, inDim, { out: dx, accumulate: true });
        return dx;
      }
      return undefined;
    }
  }
  if (!needDx) return undefined;
  return b.matmul(g, w, N, outDim, inDim, into ? { out: into, accumulate: true } : {});
}

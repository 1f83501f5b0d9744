/**
 * `finetune`: full fine-tuning, LoRA, DoRA and Sparse Matrix Tuning of a LLaMA-architecture model behind one
 * API, with AdamW from the backend kernels, global-norm gradient clipping, a linear warm-up/decay schedule, loss
 * masks, a non-finite guard, progress events, cancellation, memory accounting, optional per-layer gradient
 * checkpointing and bit-exact checkpoint/resume.
 *
 * @module
 */

import { DspyError, type DspyErrorOptions, type ProgressEvent } from '@dspy-ts/core';
import type { AdamParams, BlockIndex, KernelBackend } from '../kernels/backend.ts';
import { mulberry32 } from '../kernels/reference/random.ts';
import { createReferenceBackend } from '../kernels/reference/reference-backend.ts';
import { type LlamaConfig, type LlamaWeights, layerShapes } from '../model/llama-config.ts';
import { LlamaModel } from '../model/llama-model.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import { createLoraAdapter, type LoraAdapter, mergeLoraAdapter } from './lora-adapter.ts';
import { learningRate } from './lr-schedule.ts';
import {
  type SmtGroup,
  type SmtMatrixSelection,
  type SmtScore,
  selectBlocks,
  selectionSummary,
} from './smt-selection.ts';
import { loadTrainingCheckpoint, saveTrainingCheckpoint } from './training-checkpoint.ts';
import {
  batchIndices,
  type PreparedExample,
  prepareExamples,
  stackBatch,
  type TrainingExample,
} from './training-data.ts';
import {
  type ActivationParts,
  type CheckpointingMode,
  frozenPlan,
  type GradientPlan,
  type LinearMode,
  MATRIX_NAMES,
  type MatrixName,
  TrainingGraph,
} from './training-graph.ts';
import {
  PeakMemorySampler,
  stateBytes,
  type TrainingMemoryReport,
  type TrainingStateBytes,
} from './training-memory.ts';

/** The fine-tuning methods. */
export type FinetuneMethod = 'full' | 'lora' | 'dora' | 'smt';

/** The model to fine-tune: a {@link LlamaModel}, or its parts. Its weights are never modified. */
export interface FinetuneSource {
  /** Hyper-parameters. */
  config: LlamaConfig;
  /** Starting weights (copied; the originals stay untouched). */
  weights: LlamaWeights;
  /** Kernels (default: the reference backend). */
  backend?: KernelBackend;
  /** When present, the result includes a ready {@link LlamaModel}. */
  tokenizer?: Tokenizer;
  /** Model name, kept for the result's model. */
  name?: string;
}

/** LoRA/DoRA settings (HF PEFT semantics). */
export interface LoraOptions {
  /** Rank r (default 8). */
  rank?: number;
  /** Alpha; the branch is scaled by alpha / r (default 2·r, as the DoRA and LLM-Adapters recipes use). */
  alpha?: number;
  /** Scale by alpha / √r (rsLoRA) instead of alpha / r (default false). */
  rsLora?: boolean;
  /**
   * Adapted matrices in every layer (default `['wq', 'wk', 'wv']`). PEFT's own LLaMA default is q and v; the
   * default here is Q, K and V so LoRA, DoRA and SMT adapt the same matrices unless told otherwise (spec §7.2).
   */
  targets?: MatrixName[];
}

/** Sparse Matrix Tuning settings (spec §2). */
export interface SmtOptions {
  /**
   * Block size (default 8: for stories260K's 64-wide attention matrices that is an 8×8 grid of 64-parameter
   * blocks, spec §7.2). Dimensions that are not a multiple (172 with 8 gives 21 blocks plus a 4-wide edge) get
   * ragged edge blocks, which are scored by the mean over their real entries and trained like any other block.
   */
  blockSize?: number;
  /** Warm-up steps that sum gradients before selection (default 10 % of the steps, at least 1). Part of `steps`. */
  warmupSteps?: number;
  /**
   * `full-ft` (default, the authors' code): warm-up steps are full fine-tuning steps that also update every
   * weight, with a learning rate ramping linearly from 0 to `warmupLr`. `gradient-only`: forward and backward only,
   * weights unchanged, no full optimizer state.
   */
  warmup?: 'full-ft' | 'gradient-only';
  /** Peak learning rate of `full-ft` warm-up steps (default: the run's `lr`). */
  warmupLr?: number;
  /** Block score of the summed (unclipped) warm-up gradient (default `mean-of-abs`); see {@link SmtScore}. */
  score?: SmtScore;
  /**
   * Groups of matrix types, each with its own budget and one global top-K over all its blocks in all layers
   * (default one group Q, K, V with 10 % of their blocks). Add `{ matrices: ['w1', 'w2', 'w3'], … }` for MLP
   * blocks or `'wo'` to either group.
   */
  groups?: SmtGroup[];
  /** `gradient` (default) ranks by score; `random` picks K blocks per group uniformly (a control). */
  strategy?: 'gradient' | 'random';
  /** Use these blocks and skip warm-up and selection altogether. */
  selection?: SmtMatrixSelection[];
}

/** A progress event of {@link finetune}: a core {@link ProgressEvent} with the step's numbers as fields too. */
export interface TrainingProgressEvent extends ProgressEvent {
  /** `warmup` (SMT's gradient-collection steps) or `train`. */
  phase: 'warmup' | 'train';
  /** 1-based number of the step just finished. */
  step: number;
  /** Mean loss of the step's batch over its counted tokens. */
  loss: number;
  /** Learning rate the step used (0 for gradient-only warm-up). */
  lr: number;
  /** Global L2 norm of the gradients before clipping. */
  gradNorm: number;
}

/** Options of {@link finetune}. */
export interface TrainingRunOptions {
  /** Which method. */
  method: FinetuneMethod;
  /** Total optimizer steps, SMT warm-up included (default `epochs · ceil(examples / batchSize)`). */
  steps?: number;
  /** Passes over the data when `steps` is absent (default 1). */
  epochs?: number;
  /** Sequences per step (default min(8, number of examples)). */
  batchSize?: number;
  /** Peak learning rate (default 1e-4 for `full`, 1e-3 otherwise). */
  lr?: number;
  /** Linear learning-rate warm-up steps of the main phase (default 0). */
  lrWarmupSteps?: number;
  /** After warm-up: `linear` decay to `minLr` (default) or `constant`. */
  decay?: 'linear' | 'constant';
  /** End of the linear decay (default 0). */
  minLr?: number;
  /** Adam β1 (default 0.9). */
  beta1?: number;
  /** Adam β2 (default 0.999). */
  beta2?: number;
  /** Adam ε (default 1e-8). */
  eps?: number;
  /** Decoupled weight decay on matrices and adapter factors; never on norms or DoRA magnitudes (default 0). */
  weightDecay?: number;
  /** Clip the global gradient norm to this value (default 1; 0 or Infinity turns clipping off). */
  maxGradNorm?: number;
  /**
   * Activation memory (default `'none'`): `'layer'` keeps only each transformer layer's input in the forward pass
   * and recomputes the layer's activations just before its backward pass, for every method alike. Same gradients
   * and weights bit for bit; about one more forward pass per step.
   */
  checkpointing?: CheckpointingMode;
  /** Seed of the data order, LoRA initialisation and random SMT selection (default 0). */
  seed?: number;
  /** Shuffle the examples every epoch (default true). */
  shuffle?: boolean;
  /** Kernels (default: the source's backend, else the reference backend). */
  backend?: KernelBackend;
  /** LoRA/DoRA settings. */
  lora?: LoraOptions;
  /** SMT settings. */
  smt?: SmtOptions;
  /** Receives one event per step. */
  onProgress?: (event: TrainingProgressEvent) => void;
  /** Stops between steps; with `checkpoint`, the state is saved first so the run can resume. */
  signal?: AbortSignal;
  /** Where and how often to checkpoint. A checkpoint is also written on abort and at the end. */
  checkpoint?: {
    /** Checkpoint file (safetensors with a JSON description), written atomically. */
    path: string;
    /** Also write every this many steps (default: only on abort and at the end). */
    everySteps?: number;
  };
  /**
   * Continue from `checkpoint.path` when that file exists (default false). The checkpoint must come from the
   * same model, data and options; the resumed run then produces the same weights bit for bit as an
   * uninterrupted one.
   */
  resume?: boolean;
}

/** What SMT chose, for the record. */
export interface SmtReport {
  /** Selected blocks per (layer, matrix). */
  selection: SmtMatrixSelection[];
  /** Blocks per matrix type per layer. */
  blocksPerMatrix: Partial<Record<MatrixName, number[]>>;
  /** Total selected blocks. */
  selectedBlocks: number;
  /** Block size. */
  blockSize: number;
  /** Warm-up steps run (0 when the selection was given). */
  warmupSteps: number;
  /** Warm-up variant. */
  warmup: 'full-ft' | 'gradient-only';
  /** Score used. */
  score: SmtScore;
}

/** Result of {@link finetune}. */
export interface FinetuneResult {
  /** The method. */
  method: FinetuneMethod;
  /** Hyper-parameters (unchanged). */
  config: LlamaConfig;
  /** Trained weights, adapters merged in (fresh arrays; the source's weights are untouched). */
  weights: LlamaWeights;
  /** A model over the trained weights, when the source had a tokenizer. */
  model: LlamaModel | undefined;
  /** Unmerged LoRA/DoRA adapters by `layers.<l>.<matrix>`. */
  adapters?: Record<string, LoraAdapter>;
  /** SMT's selection. */
  smt?: SmtReport;
  /** Steps run in total (a resumed run counts the steps before the interruption too). */
  steps: number;
  /** Loss of every step. */
  losses: number[];
  /** Number of trainable scalars of the main phase. */
  trainableParameters: number;
  /** Memory accounting. */
  memory: TrainingMemoryReport;
}

const DIVERGED_MARKER = Symbol.for('@dspy-ts/smt.training-diverged');

/** Error details of a non-finite loss or gradient. */
export interface TrainingDivergedErrorOptions extends DspyErrorOptions {
  /** 1-based step at which it happened. */
  step: number;
  /** `loss` or the tensor whose gradient was not finite, e.g. `layers.3.wv`. */
  tensor: string;
}

/**
 * Training produced a NaN or infinite loss or gradient. Code `optimizer`; `step` and `tensor` say where.
 * Lower the learning rate, keep gradient clipping on, or check the data.
 */
export class TrainingDivergedError extends DspyError {
  /** 1-based step. */
  readonly step: number;
  /** `loss` or the tensor name. */
  readonly tensor: string;

  /** Creates the error; `options.step` and `options.tensor` become fields. */
  constructor(message: string, options: TrainingDivergedErrorOptions) {
    super('optimizer', message, options);
    this.name = 'TrainingDivergedError';
    this.step = options.step;
    this.tensor = options.tensor;
    Object.defineProperty(this, DIVERGED_MARKER, { value: true });
  }

  /** True when `error` is a {@link TrainingDivergedError}, from any copy of the package. */
  static override isInstance(error: unknown): error is TrainingDivergedError {
    return DspyError.isInstance(error) && (error as unknown as Record<symbol, unknown>)[DIVERGED_MARKER] === true;
  }
}

/** One optimised tensor with its gradient and Adam moments. */
interface Slot {
  name: string;
  param: Float32Array;
  grad: Float32Array;
  m: Float32Array;
  v: Float32Array;
  decay: boolean;
  blocks?: { list: BlockIndex[]; blockSize: number; cols: number };
}

type Phase = 'train' | 'warmup' | 'sparse';

const CHECKPOINT_VERSION = 1;

/**
 * Fine-tunes `source` on tokenized `examples` with the chosen method and returns the trained (merged) weights.
 *
 * - `full`: every tensor trains (shared classifier once).
 * - `lora` / `dora`: adapters on `lora.targets`; everything else frozen; merged on return.
 * - `smt`: warm-up steps sum each eligible matrix's gradient, blocks are scored and the top K per group
 *   selected; then only those blocks train: their gradients alone are computed (`blockSparseWeightGrad`), Adam
 *   state exists only for them (`adamUpdateBlocks`), and no backward work runs below the lowest layer holding a
 *   selected block. Every other weight stays bit-identical to where warm-up left it.
 *
 * Deterministic for a given seed and backend. The loss of a step is the mean cross-entropy over the counted
 * (masked-in) target tokens of its batch.
 *
 * @example
 * ```ts
 * const examples = chatRecordsToExamples(records, model.tokenizer);
 * const result = await finetune(model, examples, {
 *   method: 'smt', steps: 200, lr: 1e-3, smt: { blockSize: 8, groups: [{ matrices: ['wq', 'wk', 'wv'], blocks: 100 }] },
 *   onProgress: (e) => console.log(e.step, e.loss),
 * });
 * result.smt?.blocksPerMatrix.wv; // blocks chosen in V, per layer
 * ```
 */
export async function finetune(
  source: FinetuneSource,
  examples: readonly TrainingExample[],
  options: TrainingRunOptions,
): Promise<FinetuneResult> {
  const trainer = new Trainer(source, examples, options);
  return trainer.run();
}

/** Every base tensor of `weights` by name (the classifier only when not shared). */
export function weightEntries(config: LlamaConfig, weights: LlamaWeights): [string, Float32Array][] {
  const out: [string, Float32Array][] = [['tokenEmbedding', weights.tokenEmbedding]];
  weights.layers.forEach((layer, l) => {
    for (const key of Object.keys(layerShapes(config)) as (keyof typeof layer)[]) {
      out.push([`layers.${l}.${key}`, layer[key]]);
    }
  });
  out.push(['finalNorm', weights.finalNorm]);
  if (!config.sharedClassifier) out.push(['classifier', weights.classifier]);
  return out;
}

/** A deep copy of `weights` that keeps a shared classifier shared. */
export function cloneWeights(config: LlamaConfig, weights: LlamaWeights): LlamaWeights {
  const tokenEmbedding = weights.tokenEmbedding.slice();
  return {
    tokenEmbedding,
    layers: weights.layers.map((layer) => ({
      attnNorm: layer.attnNorm.slice(),
      wq: layer.wq.slice(),
      wk: layer.wk.slice(),
      wv: layer.wv.slice(),
      wo: layer.wo.slice(),
      ffnNorm: layer.ffnNorm.slice(),
      w1: layer.w1.slice(),
      w2: layer.w2.slice(),
      w3: layer.w3.slice(),
    })),
    finalNorm: weights.finalNorm.slice(),
    classifier: config.sharedClassifier ? tokenEmbedding : weights.classifier.slice(),
  };
}

function matrixShape(config: LlamaConfig, name: MatrixName): [number, number] {
  return layerShapes(config)[name] as [number, number];
}

function fnv1a(hash: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193) >>> 0;
  return hash;
}

function bytesOf(array: ArrayBufferView): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

const nextTick = () =>
  new Promise<void>((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));

class Trainer {
  readonly #config: LlamaConfig;
  readonly #source: FinetuneSource;
  readonly #backend: KernelBackend;
  readonly #prepared: PreparedExample[];
  readonly #method: FinetuneMethod;
  readonly #steps: number;
  readonly #batchSize: number;
  readonly #lr: number;
  readonly #options: TrainingRunOptions;
  readonly #weights: LlamaWeights;
  readonly #lora: Required<Omit<LoraOptions, 'rsLora'>> & { rsLora: boolean };
  readonly #smt: Required<Omit<SmtOptions, 'selection' | 'warmupLr'>> & { warmupLr: number };
  readonly #adapters = new Map<string, LoraAdapter>();
  readonly #losses: number[] = [];
  readonly #sampler = new PeakMemorySampler();
  #phase: Phase;
  #slots: Slot[] = [];
  #extraGrads: [string, Float32Array][] = [];
  #graph!: TrainingGraph;
  #optStep = 0;
  #accumulators = new Map<string, Float32Array>();
  #selection: SmtMatrixSelection[] | undefined;
  #activationPeak = 0;
  #activationParts: ActivationParts = { stored: 0, recomputedLayer: 0, head: 0 };
  #warmupBytes: TrainingStateBytes | undefined;

  constructor(source: FinetuneSource, examples: readonly TrainingExample[], options: TrainingRunOptions) {
    const config = source.config;
    this.#config = config;
    this.#source = source;
    this.#options = options;
    this.#method = options.method;
    if (!['full', 'lora', 'dora', 'smt'].includes(this.#method)) {
      throw new DspyError(
        'invalid_argument',
        `Unknown fine-tuning method '${String(this.#method)}'; expected 'full', 'lora', 'dora' or 'smt'.`,
      );
    }
    this.#backend = options.backend ?? source.backend ?? createReferenceBackend();
    this.#prepared = prepareExamples(examples, config.vocabSize, config.seqLen);
    this.#batchSize = positiveInt('batchSize', options.batchSize ?? Math.min(8, this.#prepared.length));
    this.#steps = positiveInt(
      'steps',
      options.steps ?? positiveInt('epochs', options.epochs ?? 1) * Math.ceil(this.#prepared.length / this.#batchSize),
    );
    this.#lr = options.lr ?? (this.#method === 'full' ? 1e-4 : 1e-3);
    if (!(this.#lr >= 0) || !Number.isFinite(this.#lr)) {
      throw new DspyError('invalid_argument', `lr must be a finite non-negative number, got ${this.#lr}.`);
    }
    const rank = positiveInt('lora.rank', options.lora?.rank ?? 8);
    this.#lora = {
      rank,
      alpha: options.lora?.alpha ?? 2 * rank,
      rsLora: options.lora?.rsLora ?? false,
      targets: checkMatrices('lora.targets', options.lora?.targets ?? ['wq', 'wk', 'wv']),
    };
    const smt = options.smt ?? {};
    const groups = smt.groups ?? [{ matrices: ['wq', 'wk', 'wv'], fraction: 0.1 }];
    const seen = new Set<MatrixName>();
    for (const group of groups) {
      for (const m of checkMatrices('smt.groups[].matrices', group.matrices)) {
        if (seen.has(m)) throw new DspyError('invalid_argument', `SMT groups overlap: '${m}' is in two groups.`);
        seen.add(m);
      }
    }
    const warmupSteps = smt.selection ? 0 : (smt.warmupSteps ?? Math.max(1, Math.round(0.1 * this.#steps)));
    if (
      this.#method === 'smt' &&
      !smt.selection &&
      (!Number.isInteger(warmupSteps) || warmupSteps < 1 || warmupSteps >= this.#steps)
    ) {
      throw new DspyError(
        'invalid_argument',
        `smt.warmupSteps must be an integer in [1, steps − 1] = [1, ${this.#steps - 1}], got ${warmupSteps}.`,
      );
    }
    this.#smt = {
      blockSize: positiveInt('smt.blockSize', smt.blockSize ?? 8),
      warmupSteps,
      warmup: smt.warmup ?? 'full-ft',
      warmupLr: smt.warmupLr ?? this.#lr,
      score: smt.score ?? 'mean-of-abs',
      groups,
      strategy: smt.strategy ?? 'gradient',
    };
    this.#weights = cloneWeights(config, source.weights);
    if (this.#method === 'lora' || this.#method === 'dora') {
      const rng = mulberry32(options.seed ?? 0);
      for (let l = 0; l < config.nLayers; l++) {
        for (const name of this.#lora.targets) {
          const [outDim, inDim] = matrixShape(config, name);
          this.#adapters.set(
            `layers.${l}.${name}`,
            createLoraAdapter(this.#weights.layers[l]![name], outDim, inDim, {
              rank: this.#lora.rank,
              alpha: this.#lora.alpha,
              rsLora: this.#lora.rsLora,
              dora: this.#method === 'dora',
              rng,
            }),
          );
        }
      }
    }
    if (this.#method === 'smt' && smt.selection) {
      this.#selection = smt.selection.map((s) => ({ ...s, blocks: [...s.blocks] }));
      this.#phase = 'sparse';
    } else {
      this.#phase = this.#method === 'smt' ? 'warmup' : 'train';
    }
    this.#enterPhase();
  }

  /** Builds the gradient plan, the optimised slots and the graph of the current phase. */
  #enterPhase(): void {
    const config = this.#config;
    const w = this.#weights;
    const plan = frozenPlan(config);
    const slots: Slot[] = [];
    const extra: [string, Float32Array][] = [];
    const slot = (name: string, param: Float32Array, decay: boolean, blocks?: Slot['blocks']) => {
      const size = blocks ? blocks.list.length * blocks.blockSize * blocks.blockSize : param.length;
      const s: Slot = {
        name,
        param,
        grad: new Float32Array(size),
        m: new Float32Array(size),
        v: new Float32Array(size),
        decay,
        ...(blocks ? { blocks } : {}),
      };
      slots.push(s);
      return s;
    };
    const fullTraining = this.#method === 'full' || (this.#phase === 'warmup' && this.#smt.warmup === 'full-ft');
    if (fullTraining) {
      plan.tokenEmbedding = slot('tokenEmbedding', w.tokenEmbedding, true).grad;
      plan.classifier = config.sharedClassifier ? plan.tokenEmbedding : slot('classifier', w.classifier, true).grad;
      plan.finalNorm = slot('finalNorm', w.finalNorm, false).grad;
      w.layers.forEach((layer, l) => {
        const lp = plan.layers[l]!;
        lp.attnNorm = slot(`layers.${l}.attnNorm`, layer.attnNorm, false).grad;
        lp.ffnNorm = slot(`layers.${l}.ffnNorm`, layer.ffnNorm, false).grad;
        for (const name of MATRIX_NAMES) {
          lp.matrices[name] = { kind: 'dense', grad: slot(`layers.${l}.${name}`, layer[name], true).grad };
        }
      });
    } else if (this.#phase === 'warmup') {
      // Gradient-only warm-up: dense gradients of the eligible matrices, nothing else, no optimizer.
      w.layers.forEach((layer, l) => {
        for (const name of this.#eligible()) {
          const grad = new Float32Array(layer[name].length);
          extra.push([`layers.${l}.${name}`, grad]);
          plan.layers[l]!.matrices[name] = { kind: 'dense', grad };
        }
      });
    } else if (this.#phase === 'sparse') {
      for (const { layer, matrix, blocks } of this.#selection!) {
        const [, cols] = matrixShape(config, matrix);
        const s = slot(`layers.${layer}.${matrix}`, w.layers[layer]![matrix], true, {
          list: blocks,
          blockSize: this.#smt.blockSize,
          cols,
        });
        plan.layers[layer]!.matrices[matrix] = {
          kind: 'blocks',
          blocks,
          blockSize: this.#smt.blockSize,
          grad: s.grad,
        };
      }
    } else {
      for (const [key, adapter] of this.#adapters) {
        const [, l, name] = key.split('.') as [string, string, MatrixName];
        const mode: LinearMode = {
          kind: 'adapter',
          adapter,
          gradA: slot(`${key}.loraA`, adapter.a, true).grad,
          gradB: slot(`${key}.loraB`, adapter.b, true).grad,
          ...(adapter.magnitude ? { gradMagnitude: slot(`${key}.magnitude`, adapter.magnitude, false).grad } : {}),
        };
        plan.layers[Number(l)]!.matrices[name] = mode;
      }
    }
    if (this.#phase === 'warmup' && this.#accumulators.size === 0) {
      w.layers.forEach((layer, l) => {
        for (const name of this.#eligible())
          this.#accumulators.set(`layers.${l}.${name}`, new Float32Array(layer[name].length));
      });
    }
    this.#slots = slots;
    this.#extraGrads = extra;
    this.#graph = new TrainingGraph(config, w, plan as GradientPlan, this.#backend, {
      checkpointing: this.#options.checkpointing ?? 'none',
    });
    this.#activationPeak = 0;
    this.#activationParts = { stored: 0, recomputedLayer: 0, head: 0 };
  }

  #eligible(): MatrixName[] {
    return this.#smt.groups.flatMap((g) => g.matrices);
  }

  /** Gradient buffer of an eligible matrix in the current (warm-up) plan. */
  #denseGrad(l: number, name: MatrixName): Float32Array {
    return (this.#graph.plan.layers[l]!.matrices[name] as { grad: Float32Array }).grad;
  }

  async run(): Promise<FinetuneResult> {
    const { signal, checkpoint } = this.#options;
    let step = 0;
    if (checkpoint && this.#options.resume) step = await this.#restore(checkpoint.path);
    while (step < this.#steps) {
      await nextTick();
      if (signal?.aborted) {
        if (checkpoint) await this.#save(checkpoint.path, step);
        throw new DspyError(
          'aborted',
          `Fine-tuning was aborted before step ${step + 1} of ${this.#steps}.` +
            (checkpoint ? ` The state is saved in ${checkpoint.path}; run again with resume: true to continue.` : ''),
          { cause: signal.reason },
        );
      }
      this.#step(step);
      step++;
      if (this.#phase === 'warmup' && step === this.#smt.warmupSteps) this.#select();
      if (checkpoint?.everySteps && step % checkpoint.everySteps === 0 && step < this.#steps) {
        await this.#save(checkpoint.path, step);
      }
    }
    if (checkpoint) await this.#save(checkpoint.path, step);
    return this.#result();
  }

  #step(step: number): void {
    const indices = batchIndices(
      this.#prepared.length,
      this.#batchSize,
      step,
      this.#options.seed ?? 0,
      this.#options.shuffle ?? true,
    );
    const batch = stackBatch(indices.map((i) => this.#prepared[i]!));
    for (const s of this.#slots) s.grad.fill(0);
    for (const [, g] of this.#extraGrads) g.fill(0);
    const run = this.#graph.run(batch, { sample: () => this.#sampler.sample() });
    if (run.activationBytes > this.#activationPeak) {
      this.#activationPeak = run.activationBytes;
      this.#activationParts = run.activationParts;
    }
    this.#sampler.sample();
    if (!Number.isFinite(run.loss)) {
      throw new TrainingDivergedError(
        `The loss is ${run.loss} at step ${step + 1} (phase ${this.#phase}). Lower the learning rate or check the data.`,
        { step: step + 1, tensor: 'loss' },
      );
    }
    const grads: [string, Float32Array][] = [
      ...this.#slots.map((s): [string, Float32Array] => [s.name, s.grad]),
      ...this.#extraGrads,
    ];
    let sumSquares = 0;
    for (const [name, grad] of grads) {
      for (let i = 0; i < grad.length; i++) {
        const g = grad[i]!;
        if (!Number.isFinite(g)) {
          throw new TrainingDivergedError(
            `The gradient of ${name} has a non-finite value (${g} at index ${i}) at step ${step + 1} ` +
              `(phase ${this.#phase}). Lower the learning rate, keep gradient clipping on, or check the data.`,
            { step: step + 1, tensor: name },
          );
        }
        sumSquares += g * g;
      }
    }
    // Shared classifier: its slot appears once, so its gradient (both uses) counts once.
    const gradNorm = Math.sqrt(sumSquares);
    if (this.#phase === 'warmup') {
      // The signed, unclipped sum of the warm-up gradients (the deepspeed path of the authors' code).
      for (const [key, acc] of this.#accumulators) {
        const [, l, name] = key.split('.') as [string, string, MatrixName];
        const grad = this.#denseGrad(Number(l), name);
        for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + grad[i]!;
      }
    }
    let lr = 0;
    if (this.#slots.length > 0) {
      lr = this.#learningRate(step);
      const maxNorm = this.#options.maxGradNorm ?? 1;
      if (maxNorm > 0 && Number.isFinite(maxNorm)) {
        // torch.nn.utils.clip_grad_norm_: scale by max/(norm + 1e-6) when that is below 1.
        const coef = maxNorm / (gradNorm + 1e-6);
        if (coef < 1)
          for (const s of this.#slots) for (let i = 0; i < s.grad.length; i++) s.grad[i] = s.grad[i]! * coef;
      }
      this.#optStep++;
      const o = this.#options;
      for (const s of this.#slots) {
        const p: AdamParams = {
          lr,
          beta1: o.beta1 ?? 0.9,
          beta2: o.beta2 ?? 0.999,
          eps: o.eps ?? 1e-8,
          weightDecay: s.decay ? (o.weightDecay ?? 0) : 0,
          step: this.#optStep,
        };
        if (s.blocks) {
          this.#backend.adamUpdateBlocks(
            s.param,
            s.blocks.cols,
            s.blocks.list,
            s.blocks.blockSize,
            s.grad,
            s.m,
            s.v,
            p,
          );
        } else {
          this.#backend.adamUpdate(s.param, s.grad, s.m, s.v, p);
        }
      }
    }
    this.#losses.push(run.loss);
    const phase = this.#phase === 'warmup' ? 'warmup' : 'train';
    this.#options.onProgress?.({
      phase,
      completed: step + 1,
      total: this.#steps,
      metrics: { loss: run.loss, lr, step: step + 1, gradNorm },
      step: step + 1,
      loss: run.loss,
      lr,
      gradNorm,
    });
  }

  #learningRate(step: number): number {
    const o = this.#options;
    if (this.#phase === 'warmup') {
      // The authors' warm-up runs inside the full fine-tuning scheduler's linear ramp from 0.
      return learningRate(step, this.#smt.warmupSteps, { lr: this.#smt.warmupLr, warmupSteps: this.#smt.warmupSteps });
    }
    // SMT's sparse phase gets a fresh schedule over the remaining steps, as the authors' code does.
    const offset = this.#method === 'smt' ? this.#smt.warmupSteps : 0;
    return learningRate(step - offset, this.#steps - offset, {
      lr: this.#lr,
      warmupSteps: o.lrWarmupSteps ?? 0,
      decay: o.decay ?? 'linear',
      minLr: o.minLr ?? 0,
    });
  }

  /** Ends SMT's warm-up: scores, selects, frees the warm-up state and switches to sparse training. */
  #select(): void {
    const config = this.#config;
    this.#warmupBytes = this.#stateBytes();
    const candidates = [...this.#accumulators].map(([key, gradSum]) => {
      const [, l, matrix] = key.split('.') as [string, string, MatrixName];
      const [rows, cols] = matrixShape(config, matrix);
      return { layer: Number(l), matrix, rows, cols, gradSum };
    });
    this.#selection = this.#smt.groups.flatMap((group, g) =>
      selectBlocks(this.#backend, candidates, group, {
        blockSize: this.#smt.blockSize,
        score: this.#smt.score,
        strategy: this.#smt.strategy,
        seed: (this.#options.seed ?? 0) + 7919 * (g + 1),
      }),
    );
    this.#accumulators = new Map();
    this.#phase = 'sparse';
    this.#optStep = 0;
    this.#enterPhase();
  }

  #stateBytes(): TrainingStateBytes {
    let weights = weightEntries(this.#config, this.#weights).reduce((s, [, t]) => s + t.byteLength, 0);
    for (const a of this.#adapters.values())
      weights += a.a.byteLength + a.b.byteLength + (a.magnitude?.byteLength ?? 0);
    const gradients =
      this.#slots.reduce((s, slot) => s + slot.grad.byteLength, 0) +
      this.#extraGrads.reduce((s, [, g]) => s + g.byteLength, 0);
    const optimizerState = this.#slots.reduce((s, slot) => s + slot.m.byteLength + slot.v.byteLength, 0);
    let other = 0;
    for (const acc of this.#accumulators.values()) other += acc.byteLength;
    return stateBytes({ weights, gradients, optimizerState, activations: this.#activationPeak, other });
  }

  #trainableParameters(): number {
    let count = 0;
    for (const s of this.#slots) {
      if (!s.blocks) {
        count += s.param.length;
        continue;
      }
      const rows = s.param.length / s.blocks.cols;
      const bs = s.blocks.blockSize;
      for (const b of s.blocks.list) {
        count += Math.min(bs, rows - b.rowBlock * bs) * Math.min(bs, s.blocks.cols - b.colBlock * bs);
      }
    }
    return count;
  }

  #result(): FinetuneResult {
    const config = this.#config;
    const weights = cloneWeights(config, this.#weights);
    for (const [key, adapter] of this.#adapters) {
      const [, l, name] = key.split('.') as [string, string, MatrixName];
      const layer = weights.layers[Number(l)]!;
      layer[name] = mergeLoraAdapter(this.#backend, this.#weights.layers[Number(l)]![name], adapter);
    }
    const source = this.#source;
    const model = source.tokenizer
      ? new LlamaModel({
          config,
          weights,
          tokenizer: source.tokenizer,
          backend: this.#backend,
          ...(source.name ? { name: source.name } : {}),
        })
      : undefined;
    const result: FinetuneResult = {
      method: this.#method,
      config,
      weights,
      model,
      steps: this.#losses.length,
      losses: [...this.#losses],
      trainableParameters: this.#trainableParameters(),
      memory: {
        checkpointing: this.#graph.checkpointing,
        accounted: this.#stateBytes(),
        activationParts: { ...this.#activationParts },
        ...(this.#warmupBytes ? { warmup: this.#warmupBytes } : {}),
        measuredPeak: { ...this.#sampler.peak },
      },
    };
    if (this.#adapters.size > 0) result.adapters = Object.fromEntries(this.#adapters);
    if (this.#method === 'smt') {
      const selection = this.#selection ?? [];
      result.smt = {
        selection,
        blocksPerMatrix: selectionSummary(selection, config.nLayers),
        selectedBlocks: selection.reduce((s, e) => s + e.blocks.length, 0),
        blockSize: this.#smt.blockSize,
        warmupSteps: this.#smt.warmupSteps,
        warmup: this.#smt.warmup,
        score: this.#smt.score,
      };
    }
    return result;
  }

  /** Identifies the run: model, starting weights, data and every option that changes the trajectory. */
  #fingerprint(): string {
    const { onProgress: _p, signal: _s, backend: _b, checkpoint: _c, resume: _r, ...rest } = this.#options;
    let hash = 0x811c9dc5;
    const text = JSON.stringify({
      rest,
      backend: this.#backend.name,
      config: this.#config,
      steps: this.#steps,
      batchSize: this.#batchSize,
      lr: this.#lr,
      lora: this.#lora,
      smt: this.#smt,
    });
    hash = fnv1a(hash, new TextEncoder().encode(text));
    for (const e of this.#prepared) {
      hash = fnv1a(hash, bytesOf(e.inputs));
      hash = fnv1a(hash, bytesOf(e.targets));
      hash = fnv1a(hash, e.mask);
    }
    for (const [, tensor] of weightEntries(this.#config, this.#source.weights)) hash = fnv1a(hash, bytesOf(tensor));
    return hash.toString(16).padStart(8, '0');
  }

  async #save(path: string, step: number): Promise<void> {
    const tensors = new Map<string, Float32Array>();
    for (const [name, tensor] of weightEntries(this.#config, this.#weights)) tensors.set(`weights.${name}`, tensor);
    for (const [key, a] of this.#adapters) {
      tensors.set(`adapter.${key}.a`, a.a);
      tensors.set(`adapter.${key}.b`, a.b);
      if (a.magnitude) tensors.set(`adapter.${key}.magnitude`, a.magnitude);
    }
    for (const s of this.#slots) {
      tensors.set(`adam.m.${s.name}`, s.m);
      tensors.set(`adam.v.${s.name}`, s.v);
    }
    for (const [key, acc] of this.#accumulators) tensors.set(`smt.gradSum.${key}`, acc);
    await saveTrainingCheckpoint(path, {
      meta: {
        version: CHECKPOINT_VERSION,
        fingerprint: this.#fingerprint(),
        method: this.#method,
        step,
        phase: this.#phase,
        optimizerStep: this.#optStep,
        losses: this.#losses,
        selection: this.#selection ?? null,
        warmupBytes: this.#warmupBytes ?? null,
        activationPeak: this.#activationPeak,
        activationParts: this.#activationParts,
      },
      tensors,
    });
  }

  /** Loads the checkpoint at `path` if there is one; returns the step to continue from. */
  async #restore(path: string): Promise<number> {
    const checkpoint = await loadTrainingCheckpoint(path);
    if (!checkpoint) return 0;
    const { meta, tensors } = checkpoint;
    const fingerprint = this.#fingerprint();
    if (meta.fingerprint !== fingerprint || meta.version !== CHECKPOINT_VERSION) {
      throw new DspyError(
        'state',
        `The checkpoint ${path} belongs to a different run (fingerprint ${String(meta.fingerprint)}, this run ` +
          `${fingerprint}): the model, data or options differ. Delete it or point checkpoint.path elsewhere.`,
      );
    }
    const take = (name: string, into: Float32Array) => {
      const data = tensors.get(name);
      if (!data || data.length !== into.length) {
        throw new DspyError(
          'state',
          `The checkpoint ${path} lacks tensor '${name}' of ${into.length} values (found ${data?.length ?? 'none'}).`,
        );
      }
      into.set(data);
    };
    for (const [name, tensor] of weightEntries(this.#config, this.#weights)) take(`weights.${name}`, tensor);
    for (const [key, a] of this.#adapters) {
      take(`adapter.${key}.a`, a.a);
      take(`adapter.${key}.b`, a.b);
      if (a.magnitude) take(`adapter.${key}.magnitude`, a.magnitude);
    }
    const phase = meta.phase as Phase;
    if (phase !== this.#phase) {
      this.#selection = meta.selection as SmtMatrixSelection[];
      this.#accumulators = new Map();
      this.#phase = phase;
      this.#enterPhase();
    }
    for (const s of this.#slots) {
      take(`adam.m.${s.name}`, s.m);
      take(`adam.v.${s.name}`, s.v);
    }
    for (const [key, acc] of this.#accumulators) take(`smt.gradSum.${key}`, acc);
    this.#optStep = meta.optimizerStep as number;
    this.#losses.push(...(meta.losses as number[]));
    if (meta.warmupBytes) this.#warmupBytes = meta.warmupBytes as TrainingStateBytes;
    this.#activationPeak = (meta.activationPeak as number | undefined) ?? 0;
    this.#activationParts = (meta.activationParts as ActivationParts | undefined) ?? {
      stored: 0,
      recomputedLayer: 0,
      head: 0,
    };
    return meta.step as number;
  }
}

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new DspyError('invalid_argument', `${name} must be a positive integer, got ${value}.`);
  }
  return value;
}

function checkMatrices(name: string, list: readonly MatrixName[]): MatrixName[] {
  if (list.length === 0) throw new DspyError('invalid_argument', `${name} must name at least one matrix.`);
  for (const m of list) {
    if (!MATRIX_NAMES.includes(m)) {
      throw new DspyError(
        'invalid_argument',
        `${name}: unknown matrix '${m}'; expected one of ${MATRIX_NAMES.join(', ')}.`,
      );
    }
  }
  return [...list];
}

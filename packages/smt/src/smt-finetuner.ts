/**
 * {@link SMTFinetuner}: core's `Finetuner` over a local LLaMA model. It turns the chat records an optimizer such
 * as `BootstrapFinetune` produces into training examples with {@link LocalLM}'s chat template, trains them into
 * the weights with Sparse Matrix Tuning (or full fine-tuning, LoRA or DoRA), and returns a {@link FinetunedLocalLM}
 * over the new weights that carries the training report.
 *
 * @module
 */

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type ChatFinetuneRecord,
  DspyError,
  type FinetuneOptions,
  type Finetuner,
  type LanguageModelV1,
} from '@dspy-ts/core';
import type { KernelBackend } from './kernels/backend.ts';
import { type BackendPreference, type SelectBackendOptions, selectBackend } from './kernels/select-backend.ts';
import { LocalLM, type LocalLMOptions } from './local-lm.ts';
import { parameterCount } from './model/llama-config.ts';
import type { LlamaModel } from './model/llama-model.ts';
import { loadHuggingFace } from './model/load-hugging-face.ts';
import { loadLlama2c } from './model/load-llama2c.ts';
import { ModelFileError } from './model/model-file-error.ts';
import {
  type FinetuneMethod,
  type FinetuneResult,
  finetune,
  type SmtReport,
  type TrainingRunOptions,
} from './training/finetune.ts';
import { type ChatExampleOptions, chatRecordsToExamples } from './training/training-data.ts';
import type { TrainingMemoryReport } from './training/training-memory.ts';

/** Training options that may be set on the finetuner and overridden per job through `trainKwargs`. */
export type SMTTrainKwargs = Omit<TrainingRunOptions, 'method' | 'backend' | 'onProgress' | 'signal'> & {
  /** Fine-tuning method (default `smt`). */
  method?: FinetuneMethod;
};

/** The keys accepted in `trainKwargs` (anything else is rejected, so a typo never trains with a default). */
export const SMT_TRAIN_KWARGS: readonly (keyof SMTTrainKwargs)[] = [
  'method',
  'steps',
  'epochs',
  'batchSize',
  'lr',
  'lrWarmupSteps',
  'decay',
  'minLr',
  'beta1',
  'beta2',
  'eps',
  'weightDecay',
  'maxGradNorm',
  'checkpointing',
  'seed',
  'shuffle',
  'lora',
  'smt',
  'checkpoint',
  'resume',
];

/** Options of {@link SMTFinetuner}: where the base model comes from, plus default training options. */
export interface SMTFinetunerOptions extends SMTTrainKwargs {
  /** Base model, used when the job's `baseLM` is not a {@link LocalLM}. */
  model?: LlamaModel;
  /**
   * Directory of the base model, loaded on first use when neither `model` nor a `LocalLM` base is given: a
   * Hugging Face directory (`config.json` + `model.safetensors`) or a llama2.c directory with one checkpoint
   * `.bin` and its tokenizer (`tokenizer.bin` or `tok*.bin`).
   */
  modelDir?: string | URL;
  /**
   * Kernels for training (default `auto`: the base model's own backend when it is not the reference one, else
   * the wasm backend in Node). The fine-tuned model runs on the same kernels.
   */
  backend?: BackendPreference;
  /** Options for creating the backend from a name. */
  backendOptions?: SelectBackendOptions;
  /** How chat records become token sequences (default: EOS appended to the answer and counted). */
  chatExamples?: ChatExampleOptions;
  /**
   * Options of the returned LM. By default its model id is the base's with `+<method>` appended (e.g.
   * `local/stories260K+smt`) and it keeps the base `LocalLM`'s request defaults.
   */
  lm?: LocalLMOptions;
}

/** What one fine-tuning job did, attached to the LM it returns. */
export interface SMTTrainingReport {
  /** Method used. */
  method: FinetuneMethod;
  /** Model id of the base LM. */
  baseModelId: string;
  /** Kernel backend that trained. */
  backend: string;
  /** Chat records received. */
  records: number;
  /** Tokens of all training sequences. */
  tokens: number;
  /** Tokens that counted towards the loss (the assistant answers, EOS included). */
  targetTokens: number;
  /** Longest training sequence in tokens. */
  maxSequenceLength: number;
  /** Optimizer steps run (SMT's warm-up included). */
  steps: number;
  /** Loss of every step. */
  losses: number[];
  /** Trainable scalars of the main phase. */
  trainableParameters: number;
  /** Parameters of the model. */
  totalParameters: number;
  /** SMT's block selection (SMT only): blocks per matrix type and layer, and the blocks themselves. */
  smt?: SmtReport;
  /** Memory accounting of the run (training state by component, measured peak). */
  memory: TrainingMemoryReport;
  /** Wall-clock seconds of the training run. */
  seconds: number;
}

/** A {@link LocalLM} over fine-tuned weights, with the report of the job that produced them. */
export class FinetunedLocalLM extends LocalLM {
  /** What the job did. */
  readonly report: SMTTrainingReport;
  /** The full result of {@link finetune} (weights, adapters, selection, memory). */
  readonly result: FinetuneResult;

  /** Wraps `model` (the fine-tuned model) and keeps the job's report and result. */
  constructor(model: LlamaModel, report: SMTTrainingReport, result: FinetuneResult, options: LocalLMOptions = {}) {
    super(model, options);
    this.report = report;
    this.result = result;
  }

  /** Like {@link LocalLM.withDefaults}, keeping the report. */
  override withDefaults(defaults: LocalLMOptions['defaults'] = {}): FinetunedLocalLM {
    return new FinetunedLocalLM(this.model, this.report, this.result, {
      modelId: this.modelId,
      defaults: { ...this.defaults, ...defaults },
    });
  }

  /** {@link LocalLM.dumpState} plus the method and, for SMT, the blocks chosen per matrix type and layer. */
  override dumpState(): Record<string, unknown> {
    const state: Record<string, unknown> = { ...super.dumpState(), finetune_method: this.report.method };
    if (this.report.smt) state.smt_blocks_per_matrix = this.report.smt.blocksPerMatrix;
    return state;
  }
}

function isLocalLM(lm: LanguageModelV1 | undefined): lm is LocalLM {
  return lm instanceof LocalLM;
}

async function loadModelDir(dir: string | URL, backend: BackendPreference, options?: SelectBackendOptions) {
  const root = dir instanceof URL ? fileURLToPath(dir) : dir;
  let files: string[];
  try {
    files = await readdir(root);
  } catch (cause) {
    throw new ModelFileError(`Cannot read the model directory ${root}: ${(cause as Error).message}`, {
      file: root,
      cause,
    });
  }
  if (files.includes('config.json')) return loadHuggingFace(root, { backend, backendOptions: options });
  const bins = files.filter((f) => f.endsWith('.bin'));
  const tokenizer = bins.find((f) => f === 'tokenizer.bin') ?? bins.find((f) => /^tok.*\.bin$/.test(f));
  const checkpoints = bins.filter((f) => f !== tokenizer);
  if (!tokenizer || checkpoints.length !== 1) {
    throw new ModelFileError(
      `The model directory ${root} must hold a Hugging Face model (config.json + model.safetensors) or one ` +
        `llama2.c checkpoint (.bin) and its tokenizer (tokenizer.bin or tok*.bin); found ` +
        `${bins.length ? bins.join(', ') : 'no .bin files'}.`,
      { file: root },
    );
  }
  return loadLlama2c({
    checkpoint: join(root, checkpoints[0] as string),
    tokenizer: join(root, tokenizer),
    backend,
    backendOptions: options,
  });
}

function abortError(signal: AbortSignal): DspyError {
  return new DspyError('aborted', 'Fine-tuning was aborted before it started.', { cause: signal.reason });
}

/**
 * Core's `Finetuner` for local models: `finetune(records, { baseLM, trainKwargs, onProgress, signal })` renders the
 * chat records with {@link LocalLM}'s template (only the final assistant turn is learned), trains them into the
 * weights with Sparse Matrix Tuning by default (`trainKwargs.method` picks `full`, `lora` or `dora` instead) and
 * returns a {@link FinetunedLocalLM} whose `report` holds the block selection and the memory accounting.
 *
 * The starting weights are the `baseLM`'s when it is a `LocalLM`, else the configured `model`, else the model in
 * `modelDir`. The base model is never modified. Progress events of every step are forwarded to `onProgress`; the
 * `signal` stops training between steps (with `checkpoint`, the state is saved first so `resume: true` continues).
 *
 * @example
 * ```ts
 * const finetuner = new SMTFinetuner({ steps: 200, lr: 1e-2, smt: { warmup: 'gradient-only' } });
 * const optimizer = new BootstrapFinetune({ metric, finetuner });
 * const tuned = await optimizer.compile(program, { trainset, teacher }); // the program's LocalLM is replaced
 * ```
 */
export class SMTFinetuner implements Finetuner {
  /** The finetuner's options (defaults for every job). */
  readonly options: SMTFinetunerOptions;
  #model: Promise<LlamaModel> | undefined;
  #backend: Promise<KernelBackend> | undefined;
  #ownedBackend: KernelBackend | undefined;

  /** Creates a finetuner; nothing is loaded until the first job. */
  constructor(options: SMTFinetunerOptions = {}) {
    for (const key of Object.keys(options)) {
      if (
        !SMT_TRAIN_KWARGS.includes(key as keyof SMTTrainKwargs) &&
        !['model', 'modelDir', 'backend', 'backendOptions', 'chatExamples', 'lm'].includes(key)
      ) {
        throw new DspyError('invalid_argument', `SMTFinetuner: unknown option '${key}'.`);
      }
    }
    this.options = { ...options };
  }

  /**
   * Trains on `records` and returns the fine-tuned LM.
   *
   * @throws {DspyError} `invalid_argument` for no records, an unknown `trainKwargs` key or no base model;
   *   `aborted` when `signal` fires; a `TrainingDivergedError` when the loss or a gradient stops being finite.
   */
  async finetune(records: readonly ChatFinetuneRecord[], options: FinetuneOptions = {}): Promise<FinetunedLocalLM> {
    const { signal, onProgress, baseLM } = options;
    if (signal?.aborted) throw abortError(signal);
    if (records.length === 0) {
      throw new DspyError(
        'invalid_argument',
        'SMTFinetuner received no training records: no teacher run passed the metric, so there is nothing to learn.',
      );
    }
    const kwargs = this.#trainKwargs(options.trainKwargs);
    const model = isLocalLM(baseLM) ? baseLM.model : await this.#baseModel();
    const backend = await this.#resolveBackend(model);
    if (signal?.aborted) throw abortError(signal);

    const examples = chatRecordsToExamples(records, model.tokenizer, this.options.chatExamples);
    const { method: methodOption, ...training } = kwargs;
    const method = methodOption ?? 'smt';
    const started = performance.now();
    const result = await finetune(
      { config: model.config, weights: model.weights, tokenizer: model.tokenizer, backend, name: model.name },
      examples,
      {
        ...training,
        method,
        backend,
        ...(onProgress ? { onProgress: (event) => onProgress({ ...event }) } : {}),
        ...(signal ? { signal } : {}),
      },
    );
    const seconds = (performance.now() - started) / 1000;
    const tuned = result.model as LlamaModel;
    const baseModelId = baseLM?.modelId ?? `local/${model.name}`;
    const report: SMTTrainingReport = {
      method,
      baseModelId,
      backend: backend.name,
      records: records.length,
      tokens: examples.reduce((s, e) => s + e.tokens.length, 0),
      targetTokens: examples.reduce((s, e) => s + countOnes(e.lossMask), 0),
      maxSequenceLength: examples.reduce((m, e) => Math.max(m, e.tokens.length), 0),
      steps: result.steps,
      losses: result.losses,
      trainableParameters: result.trainableParameters,
      totalParameters: parameterCount(model.config),
      ...(result.smt ? { smt: result.smt } : {}),
      memory: result.memory,
      seconds,
    };
    const lmOptions: LocalLMOptions = {
      modelId: this.options.lm?.modelId ?? `${baseModelId}+${method}`,
      defaults: { ...(isLocalLM(baseLM) ? baseLM.defaults : {}), ...this.options.lm?.defaults },
    };
    return new FinetunedLocalLM(tuned, report, result, lmOptions);
  }

  /**
   * Releases the kernels this finetuner created (only when it created them from a name for a model it did not
   * receive). Call it once the returned LMs are no longer used: they run on the same kernels.
   */
  async dispose(): Promise<void> {
    const owned = this.#ownedBackend;
    this.#ownedBackend = undefined;
    this.#backend = undefined;
    await owned?.dispose?.();
  }

  #trainKwargs(overrides: Record<string, unknown> | undefined): SMTTrainKwargs {
    const defaults: Record<string, unknown> = {};
    for (const key of SMT_TRAIN_KWARGS) {
      const value = this.options[key];
      if (value !== undefined) defaults[key] = value;
    }
    for (const [key, value] of Object.entries(overrides ?? {})) {
      if (!SMT_TRAIN_KWARGS.includes(key as keyof SMTTrainKwargs)) {
        throw new DspyError(
          'invalid_argument',
          `SMTFinetuner: unknown train kwarg '${key}'; expected one of ${SMT_TRAIN_KWARGS.join(', ')}.`,
        );
      }
      if (value !== undefined) defaults[key] = value;
    }
    return defaults as SMTTrainKwargs;
  }

  #baseModel(): Promise<LlamaModel> {
    if (this.options.model) return Promise.resolve(this.options.model);
    if (this.options.modelDir === undefined) {
      throw new DspyError(
        'invalid_argument',
        'SMTFinetuner has no base model: pass `model` or `modelDir`, or fine-tune a program whose LM is a LocalLM.',
      );
    }
    this.#model ??= loadModelDir(this.options.modelDir, this.options.backend ?? 'auto', this.options.backendOptions);
    // A failed load is not cached, so the next job can try again.
    this.#model.catch(() => {
      this.#model = undefined;
    });
    return this.#model;
  }

  #resolveBackend(model: LlamaModel): Promise<KernelBackend> {
    const preference = this.options.backend ?? 'auto';
    if (typeof preference === 'object') return Promise.resolve(preference);
    if (preference === 'auto' && model.backend.name !== 'reference') return Promise.resolve(model.backend);
    if (preference === model.backend.name) return Promise.resolve(model.backend);
    this.#backend ??= selectBackend(preference, this.options.backendOptions).then((backend) => {
      this.#ownedBackend = backend;
      return backend;
    });
    return this.#backend;
  }
}

function countOnes(mask: ArrayLike<number> | undefined): number {
  if (!mask) return 0;
  let n = 0;
  for (let i = 1; i < mask.length; i++) if (mask[i]) n++;
  return n;
}

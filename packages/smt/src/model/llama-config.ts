/**
 * Configuration and weight layout of a LLaMA-architecture model (RMSNorm, RoPE, grouped-query attention,
 * SwiGLU), shared by the loaders, the runtime and the trainers.
 *
 * @module
 */

import { DspyError } from '@dspy-ts/core';
import type { RopeLayout } from '../kernels/backend.ts';

/** Hyper-parameters of a LLaMA-architecture model. */
export interface LlamaConfig {
  /** Model (residual stream) width. */
  dim: number;
  /** SwiGLU hidden width. */
  hiddenDim: number;
  /** Number of transformer blocks. */
  nLayers: number;
  /** Number of query heads; `dim / nHeads` is the head size. */
  nHeads: number;
  /** Number of key/value heads (`nHeads` must be a multiple). */
  nKvHeads: number;
  /** Vocabulary size. */
  vocabSize: number;
  /** Longest supported sequence (size of the KV cache). */
  seqLen: number;
  /** RMSNorm epsilon (llama2.c: 1e-5). */
  normEps: number;
  /** RoPE base θ (10000 for LLaMA 1/2). */
  ropeBase: number;
  /** Pairing of the q/k dimensions that RoPE rotates: llama2.c files are `interleaved`, Hugging Face `rotate-half`. */
  ropeLayout: RopeLayout;
  /** The output classifier is the token embedding matrix. */
  sharedClassifier: boolean;
}

/** Weights of one transformer block; matrices are `[out, in]` row-major. */
export interface LlamaLayerWeights {
  /** Attention RMSNorm weight `[dim]`. */
  attnNorm: Float32Array;
  /** Query projection `[nHeads·headDim, dim]`. */
  wq: Float32Array;
  /** Key projection `[nKvHeads·headDim, dim]`. */
  wk: Float32Array;
  /** Value projection `[nKvHeads·headDim, dim]`. */
  wv: Float32Array;
  /** Attention output projection `[dim, nHeads·headDim]`. */
  wo: Float32Array;
  /** Feed-forward RMSNorm weight `[dim]`. */
  ffnNorm: Float32Array;
  /** SwiGLU gate projection `[hiddenDim, dim]`. */
  w1: Float32Array;
  /** SwiGLU down projection `[dim, hiddenDim]`. */
  w2: Float32Array;
  /** SwiGLU up projection `[hiddenDim, dim]`. */
  w3: Float32Array;
}

/** All weights of a model. When the classifier is shared, `classifier === tokenEmbedding`. */
export interface LlamaWeights {
  /** Token embedding `[vocabSize, dim]`. */
  tokenEmbedding: Float32Array;
  /** One entry per layer. */
  layers: LlamaLayerWeights[];
  /** Final RMSNorm weight `[dim]`. */
  finalNorm: Float32Array;
  /** Output classifier `[vocabSize, dim]`. */
  classifier: Float32Array;
}

/** Head size `dim / nHeads`. */
export function headDim(config: LlamaConfig): number {
  return config.dim / config.nHeads;
}

/** Width of the key/value projections, `nKvHeads · headDim`. */
export function kvDim(config: LlamaConfig): number {
  return config.nKvHeads * headDim(config);
}

/** The `[rows, cols]` shape of every tensor of one layer, by {@link LlamaLayerWeights} key. */
export function layerShapes(config: LlamaConfig): Record<keyof LlamaLayerWeights, [number, number] | [number]> {
  const { dim, hiddenDim } = config;
  const kv = kvDim(config);
  return {
    attnNorm: [dim],
    wq: [dim, dim],
    wk: [kv, dim],
    wv: [kv, dim],
    wo: [dim, dim],
    ffnNorm: [dim],
    w1: [hiddenDim, dim],
    w2: [dim, hiddenDim],
    w3: [hiddenDim, dim],
  };
}

/** Number of scalar parameters (the classifier counted once when shared). */
export function parameterCount(config: LlamaConfig): number {
  const perLayer = Object.values(layerShapes(config)).reduce((s, shape) => s + shape.reduce((a, b) => a * b, 1), 0);
  const embedding = config.vocabSize * config.dim;
  return embedding + config.nLayers * perLayer + config.dim + (config.sharedClassifier ? 0 : embedding);
}

/**
 * Returns a message describing the first inconsistency of a configuration (non-positive sizes, `dim` not
 * divisible by `nHeads`, `nHeads` not a multiple of `nKvHeads`, odd head size), or undefined when it is valid.
 * Field names are given in llama2.c's spelling (`n_kv_heads`, …) since that is what file headers contain.
 */
export function configProblem(config: LlamaConfig): { field: string; message: string } | undefined {
  const positive: [keyof LlamaConfig, string][] = [
    ['dim', 'dim'],
    ['hiddenDim', 'hidden_dim'],
    ['nLayers', 'n_layers'],
    ['nHeads', 'n_heads'],
    ['nKvHeads', 'n_kv_heads'],
    ['vocabSize', 'vocab_size'],
    ['seqLen', 'seq_len'],
  ];
  for (const [key, field] of positive) {
    const value = config[key] as number;
    if (!Number.isInteger(value) || value <= 0) {
      return { field, message: `${field} must be a positive integer, found ${value}` };
    }
  }
  if (config.dim % config.nHeads !== 0) {
    return { field: 'n_heads', message: `dim (${config.dim}) must be divisible by n_heads (${config.nHeads})` };
  }
  if (config.nHeads % config.nKvHeads !== 0) {
    return {
      field: 'n_kv_heads',
      message: `n_heads (${config.nHeads}) must be a multiple of n_kv_heads (${config.nKvHeads})`,
    };
  }
  if (headDim(config) % 2 !== 0) {
    return { field: 'n_heads', message: `head size dim/n_heads = ${headDim(config)} must be even for RoPE` };
  }
  if (!(config.normEps > 0) || !(config.ropeBase > 0)) {
    return {
      field: 'norm_eps',
      message: `normEps (${config.normEps}) and ropeBase (${config.ropeBase}) must be positive`,
    };
  }
  return undefined;
}

/** Throws a `DspyError` (`invalid_argument`) when `weights` do not have the sizes `config` implies. */
export function assertWeightsMatch(config: LlamaConfig, weights: LlamaWeights): void {
  const problem = configProblem(config);
  if (problem) throw new DspyError('invalid_argument', `Invalid LlamaConfig: ${problem.message}.`);
  const check = (name: string, array: Float32Array, expected: number) => {
    if (array.length !== expected) {
      throw new DspyError('invalid_argument', `Weight ${name} has ${array.length} values, expected ${expected}.`);
    }
  };
  check('tokenEmbedding', weights.tokenEmbedding, config.vocabSize * config.dim);
  check('classifier', weights.classifier, config.vocabSize * config.dim);
  check('finalNorm', weights.finalNorm, config.dim);
  if (weights.layers.length !== config.nLayers) {
    throw new DspyError('invalid_argument', `Expected ${config.nLayers} layers, found ${weights.layers.length}.`);
  }
  const shapes = layerShapes(config);
  weights.layers.forEach((layer, l) => {
    for (const key of Object.keys(shapes) as (keyof LlamaLayerWeights)[]) {
      check(
        `layers[${l}].${key}`,
        layer[key],
        shapes[key].reduce((a, b) => a * b, 1),
      );
    }
  });
}

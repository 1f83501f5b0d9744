/**
 * Seeded random LLaMA weights, for tests, benchmarks and training from scratch.
 *
 * @module
 */

import { mulberry32, randomTensor } from '../kernels/reference/random.ts';
import { type LlamaConfig, type LlamaWeights, layerShapes } from '../model/llama-config.ts';

/** Options of {@link randomLlamaWeights}. */
export interface RandomLlamaOptions {
  /** Seed of the mulberry32 stream (default 0). */
  seed?: number;
  /** Standard deviation of the matrices (default 0.02 as in llama2.c's `train.py`; norms are set to 1). */
  std?: number;
  /** Draw norm weights uniformly from [1 − x, 1 + x) instead of all ones (default 0), to exercise their gradients. */
  normJitter?: number;
}

/**
 * Weights for `config` drawn from a normal distribution (norm weights 1, or jittered around 1). With a shared
 * classifier, `classifier === tokenEmbedding`.
 *
 * @example
 * ```ts
 * const weights = randomLlamaWeights(config, { seed: 1, std: 0.1 });
 * ```
 */
export function randomLlamaWeights(config: LlamaConfig, options: RandomLlamaOptions = {}): LlamaWeights {
  const rng = mulberry32(options.seed ?? 0);
  const std = options.std ?? 0.02;
  const jitter = options.normJitter ?? 0;
  const matrix = (n: number) => randomTensor(n, rng, { distribution: 'normal', scale: std });
  const norm = (n: number) => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = 1 + jitter * (2 * rng() - 1);
    return out;
  };
  const shapes = layerShapes(config);
  const tokenEmbedding = matrix(config.vocabSize * config.dim);
  const layers = Array.from({ length: config.nLayers }, () => ({
    attnNorm: norm(shapes.attnNorm[0]),
    wq: matrix(shapes.wq[0] * shapes.wq[1]!),
    wk: matrix(shapes.wk[0] * shapes.wk[1]!),
    wv: matrix(shapes.wv[0] * shapes.wv[1]!),
    wo: matrix(shapes.wo[0] * shapes.wo[1]!),
    ffnNorm: norm(shapes.ffnNorm[0]),
    w1: matrix(shapes.w1[0] * shapes.w1[1]!),
    w2: matrix(shapes.w2[0] * shapes.w2[1]!),
    w3: matrix(shapes.w3[0] * shapes.w3[1]!),
  }));
  const finalNorm = norm(config.dim);
  const classifier = config.sharedClassifier ? tokenEmbedding : matrix(config.vocabSize * config.dim);
  return { tokenEmbedding, layers, finalNorm, classifier };
}

/**
 * Next-token selection from logits: greedy argmax, temperature sampling and nucleus (top-p) sampling.
 *
 * @module
 */

import type { Rng } from '../kernels/reference/random.ts';

/** Options of {@link sampleToken}. */
export interface SampleOptions {
  /** 0 (or less) = greedy argmax; otherwise logits are divided by it before the softmax. */
  temperature: number;
  /** Nucleus mass in (0, 1); values ≥ 1 (or ≤ 0) sample from the full distribution. */
  topP?: number;
  /** Uniform [0, 1) source; required when temperature > 0. */
  rng?: Rng;
}

/** Index of the largest value; the first one wins ties, as llama2.c's `argmax`. */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** log softmax of one row of logits, in float64. */
export function logSoftmax(logits: ArrayLike<number>): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - max);
  const logZ = max + Math.log(sum);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i]! - logZ;
  return out;
}

/**
 * Picks the next token. Top-p keeps the smallest set of most likely tokens whose cumulative probability
 * exceeds `topP` (as llama2.c's `sample_topp`) and samples within it.
 */
export function sampleToken(logits: ArrayLike<number>, options: SampleOptions): number {
  if (!(options.temperature > 0)) return argmax(logits);
  const rng = options.rng;
  if (!rng) throw new RangeError('sampling with temperature > 0 needs an rng');
  const scaled = Array.from(logits, (l) => l / options.temperature);
  const probs = logSoftmax(scaled).map(Math.exp);
  const topP = options.topP ?? 1;
  let candidates = Array.from(probs.keys());
  let mass = 1;
  if (topP > 0 && topP < 1) {
    candidates.sort((a, b) => probs[b]! - probs[a]! || a - b);
    let cumulative = 0;
    let last = candidates.length - 1;
    for (let i = 0; i < candidates.length; i++) {
      cumulative += probs[candidates[i]!]!;
      if (cumulative > topP) {
        last = i;
        break;
      }
    }
    candidates = candidates.slice(0, last + 1);
    mass = cumulative;
  }
  const r = rng() * mass;
  let cdf = 0;
  for (const id of candidates) {
    cdf += probs[id]!;
    if (r < cdf) return id;
  }
  // Rounding can leave r just above the final cdf.
  return candidates[candidates.length - 1]!;
}

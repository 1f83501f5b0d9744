/**
 * Small seeded random utilities for tests and benchmarks of the kernels. They are deterministic across platforms
 * (pure 32-bit integer arithmetic), so a seed names the same tensor everywhere.
 *
 * @module
 */

/** A function returning uniformly distributed numbers in `[0, 1)`. */
export type Rng = () => number;

/**
 * The mulberry32 generator: a 32-bit state PRNG, fast and good enough for test data and sampling (not for
 * cryptography).
 *
 * @example
 * ```ts
 * const rng = mulberry32(42);
 * rng(); // 0.6011037519201636, the same on every machine
 * ```
 */
export function mulberry32(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Options of {@link randomTensor}. */
export interface RandomTensorOptions {
  /** Uniform values lie in `[-scale, scale)`; normal values have standard deviation `scale` (default 1). */
  scale?: number;
  /** `uniform` (default) or `normal` (Box–Muller). */
  distribution?: 'uniform' | 'normal';
}

/**
 * A `Float32Array` of `length` random values drawn from `rng` (or from `mulberry32(seed)` when a number is given).
 *
 * @example
 * ```ts
 * const a = randomTensor(7 * 13, 1);            // uniform in [-1, 1)
 * const w = randomTensor(64, mulberry32(2), { distribution: 'normal', scale: 0.02 });
 * ```
 */
export function randomTensor(length: number, rngOrSeed: Rng | number, options: RandomTensorOptions = {}): Float32Array {
  const rng = typeof rngOrSeed === 'number' ? mulberry32(rngOrSeed) : rngOrSeed;
  const scale = options.scale ?? 1;
  const out = new Float32Array(length);
  if (options.distribution === 'normal') {
    for (let i = 0; i < length; i++) {
      // 1 - rng() lies in (0, 1], so the logarithm stays finite.
      const u = 1 - rng();
      const v = rng();
      out[i] = scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
  } else {
    for (let i = 0; i < length; i++) out[i] = scale * (2 * rng() - 1);
  }
  return out;
}

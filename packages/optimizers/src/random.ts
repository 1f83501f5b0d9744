import { createHash } from 'node:crypto';

/**
 * A small, fast, seeded pseudo-random generator (sfc32, seeded through SplitMix32) with the handful of helpers
 * DSPy's optimizers take from Python's `random.Random`: `random`, `randint`, `shuffle`, `sample`, `choice`.
 *
 * The same seed always yields the same sequence, on every platform. The sequence is **not** CPython's MT19937, so
 * demo orders and random sizes differ from DSPy's for the same seed; only the distributions match.
 *
 * @example
 * ```ts
 * const rng = new SeededRandom(0);
 * rng.randint(1, 4);          // an integer in [1, 4]
 * rng.shuffle([1, 2, 3]);     // shuffled in place
 * rng.sample(['a', 'b', 'c'], 2);
 * ```
 */
export class SeededRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** @param seed Any integer or string; strings are hashed. */
  constructor(seed: number | string = 0) {
    let state = typeof seed === 'string' ? hashSeed(seed) : Math.trunc(seed) >>> 0;
    const next = (): number => {
      state = (state + 0x9e3779b9) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    // Discard the first outputs: sfc32 needs a few rounds to mix a fresh state.
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  private nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** A float in [0, 1). */
  random(): number {
    return this.nextUint32() / 4294967296;
  }

  /** An integer in [`low`, `high`], both ends included (Python's `randint`). */
  randint(low: number, high: number): number {
    if (!Number.isInteger(low) || !Number.isInteger(high) || high < low) {
      throw new RangeError(`randint needs integers with low <= high, got ${low} and ${high}.`);
    }
    return low + Math.floor(this.random() * (high - low + 1));
  }

  /** Shuffles `items` in place (Fisher–Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [items[i], items[j]] = [items[j] as T, items[i] as T];
    }
    return items;
  }

  /** `k` distinct items of `items` in random order (Python's `sample`); `items` is not changed. */
  sample<T>(items: readonly T[], k: number): T[] {
    if (!Number.isInteger(k) || k < 0 || k > items.length) {
      throw new RangeError(`Sample larger than population or is negative: asked for ${k} of ${items.length}.`);
    }
    const pool = [...items];
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(this.random() * (pool.length - i));
      [pool[i], pool[j]] = [pool[j] as T, pool[i] as T];
    }
    return pool.slice(0, k);
  }

  /** One item of `items`. */
  choice<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Cannot choose from an empty sequence.');
    return items[Math.floor(this.random() * items.length)] as T;
  }
}

function hashSeed(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32LE(0);
}

import { describe, expect, it } from 'vitest';
import { SeededRandom } from './random.ts';

describe('SeededRandom', () => {
  it('repeats its sequence for the same seed and differs across seeds', () => {
    const a = new SeededRandom(7);
    const b = new SeededRandom(7);
    const c = new SeededRandom(8);
    const seqA = Array.from({ length: 5 }, () => a.random());
    expect(Array.from({ length: 5 }, () => b.random())).toEqual(seqA);
    expect(Array.from({ length: 5 }, () => c.random())).not.toEqual(seqA);
    expect(seqA.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('randint covers both ends; sample draws distinct items; shuffle permutes', () => {
    const rng = new SeededRandom(1);
    const seen = new Set(Array.from({ length: 200 }, () => rng.randint(1, 4)));
    expect([...seen].sort()).toEqual([1, 2, 3, 4]);
    const items = [1, 2, 3, 4, 5, 6];
    const sample = rng.sample(items, 4);
    expect(new Set(sample).size).toBe(4);
    expect(sample.every((x) => items.includes(x))).toBe(true);
    expect(items).toEqual([1, 2, 3, 4, 5, 6]);
    expect(rng.shuffle([...items]).sort()).toEqual(items);
    expect(() => rng.sample(items, 7)).toThrow(RangeError);
  });
});

import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../kernels/reference/random.ts';
import { argmax, logSoftmax, sampleToken } from './sampling.ts';

describe('sampling', () => {
  const logits = Float32Array.from([1, 3, 3, 0, 2]);

  it('argmax takes the first maximum, and temperature 0 is greedy', () => {
    expect(argmax(logits)).toBe(1);
    expect(sampleToken(logits, { temperature: 0 })).toBe(1);
  });

  it('logSoftmax is normalised', () => {
    const lp = logSoftmax(logits);
    expect(lp.reduce((s, v) => s + Math.exp(v), 0)).toBeCloseTo(1, 12);
    expect(lp[1]! - lp[3]!).toBeCloseTo(3, 12);
  });

  it('samples in proportion to softmax(logits / temperature)', () => {
    const rng = mulberry32(1);
    const counts = new Array(5).fill(0);
    for (let i = 0; i < 20000; i++) counts[sampleToken(logits, { temperature: 2, rng })]++;
    const probs = Array.from(logSoftmax(Array.from(logits, (l) => l / 2)), Math.exp);
    counts.forEach((c, i) => {
      expect(c / 20000).toBeCloseTo(probs[i]!, 1);
    });
  });

  it('top-p keeps only the smallest set whose mass exceeds p', () => {
    const rng = mulberry32(2);
    const seen = new Set<number>();
    // softmax([1,3,3,0,2]): the two 3s hold about 0.78 together, so p = 0.7 keeps exactly those two.
    for (let i = 0; i < 2000; i++) seen.add(sampleToken(logits, { temperature: 1, topP: 0.7, rng }));
    expect([...seen].sort()).toEqual([1, 2]);
    expect(() => sampleToken(logits, { temperature: 1 })).toThrow(/needs an rng/);
  });
});

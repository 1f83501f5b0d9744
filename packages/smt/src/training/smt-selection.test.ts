import { describe, expect, it } from 'vitest';
import { createReferenceBackend } from '../kernels/reference/reference-backend.ts';
import { blockScoreGrid, groupBudget, selectBlocks, selectionSummary } from './smt-selection.ts';

const backend = createReferenceBackend();

describe('blockScoreGrid', () => {
  it('names the two scores by what they compute: mean of |G| versus |mean of G|', () => {
    // One 2×2 block of +1/−1: mean |G| = 1, |mean G| = 0.
    const g = Float32Array.from([1, -1, -1, 1]);
    expect([...blockScoreGrid(backend, g, 2, 2, 2, 'mean-of-abs')]).toEqual([1]);
    expect([...blockScoreGrid(backend, g, 2, 2, 2, 'abs-of-mean')]).toEqual([0]);
  });

  it('scores ragged edge blocks by the mean over their real entries', () => {
    // 3×5 of twos with block size 2: edge blocks hold 2×1, 1×2 and 1×1 real entries but still score 2.
    const grid = blockScoreGrid(backend, new Float32Array(15).fill(2), 3, 5, 2, 'mean-of-abs');
    expect([...grid]).toEqual(new Array(6).fill(2));
  });
});

describe('selectBlocks', () => {
  const candidates = [
    { layer: 0, matrix: 'wq' as const, rows: 4, cols: 4, gradSum: Float32Array.from({ length: 16 }, (_, i) => i) },
    { layer: 1, matrix: 'wv' as const, rows: 2, cols: 4, gradSum: Float32Array.from({ length: 8 }, (_, i) => -20 - i) },
    { layer: 1, matrix: 'w2' as const, rows: 4, cols: 4, gradSum: new Float32Array(16).fill(1000) },
  ];

  it('ranks all blocks of a group in one global top-K and ignores other matrices', () => {
    const selection = selectBlocks(
      backend,
      candidates,
      { matrices: ['wq', 'wv'], blocks: 3 },
      {
        blockSize: 2,
        score: 'mean-of-abs',
      },
    );
    // V's blocks (|G| ≥ 20) beat every Q block; the best Q block is the bottom-right one.
    expect(selection).toEqual([
      { layer: 0, matrix: 'wq', blocks: [{ rowBlock: 1, colBlock: 1 }] },
      {
        layer: 1,
        matrix: 'wv',
        blocks: [
          { rowBlock: 0, colBlock: 0 },
          { rowBlock: 0, colBlock: 1 },
        ],
      },
    ]);
    expect(selectionSummary(selection, 2)).toEqual({ wq: [1, 0], wv: [0, 2] });
  });

  it('turns a fraction into a block count and a random strategy into a seeded sample', () => {
    expect(groupBudget({ matrices: ['wq'], fraction: 0.25 }, 640)).toBe(160);
    expect(groupBudget({ matrices: ['wq'], blocks: 1000 }, 640)).toBe(640);
    expect(() => groupBudget({ matrices: ['wq'], fraction: 1.5 }, 640)).toThrow(/fraction/);
    const pick = (seed: number) =>
      selectBlocks(
        backend,
        candidates,
        { matrices: ['wq', 'wv'], blocks: 4 },
        {
          blockSize: 2,
          score: 'mean-of-abs',
          strategy: 'random',
          seed,
        },
      );
    expect(pick(1)).toEqual(pick(1));
    expect(pick(1)).not.toEqual(pick(2));
    expect(pick(1).reduce((s, e) => s + e.blocks.length, 0)).toBe(4);
  });
});

import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../random.ts';
import {
  type Chooser,
  findDominatorPrograms,
  paretoFrequencies,
  paretoFronts,
  removeDominatedPrograms,
  selectParetoCandidate,
} from './pareto.ts';

// Programs × validation examples.
const matrix = [
  [1, 0, 0, 0], // p0: best on ex0, tied with p1 there
  [1, 1, 0, 0], // p1: best on ex0 and ex1
  [0, 0, 1, 0.5], // p2: best on ex2 and ex3, tied with p3
  [0, 0, 1, 0.5], // p3: the same scores as p2
  [0, 0, 0, 0.2], // p4: best nowhere
];
const aggregate = matrix.map((row) => row.reduce((a, b) => a + b, 0) / row.length);

class RecordingChooser implements Chooser {
  lists: unknown[][] = [];
  choice<T>(items: readonly T[]): T {
    this.lists.push([...items]);
    return items[0] as T;
  }
}

describe('GEPA Pareto selection', () => {
  it('finds the best programs per validation example', () => {
    expect(paretoFronts(matrix)).toEqual([[0, 1], [1], [2, 3], [2, 3]]);
  });

  it('drops dominated programs, lowest aggregate first, keeping one of two identical programs', () => {
    const fronts = paretoFronts(matrix);
    // p0 is dominated by p1 (ex0); of p2/p3 (equal scores) the first visited is dropped and the other kept.
    expect(removeDominatedPrograms(fronts, aggregate)).toEqual([[1], [1], [3], [3]]);
    expect(findDominatorPrograms(fronts, aggregate)).toEqual([1, 3]);
    expect([...paretoFrequencies(fronts, aggregate)]).toEqual([
      [1, 2],
      [3, 2],
    ]);
  });

  it('samples programs in proportion to the examples on which they are non-dominated best', () => {
    const chooser = new RecordingChooser();
    selectParetoCandidate(paretoFronts(matrix), aggregate, chooser);
    expect(chooser.lists).toEqual([[1, 1, 3, 3]]);

    // Unequal weights: p0 alone best on 3 examples, p1 on 1 → about 3:1.
    const skewed = [
      [1, 1, 1, 0],
      [0, 0, 0, 1],
    ];
    const rng = new SeededRandom(7);
    const counts = [0, 0];
    for (let i = 0; i < 4000; i++) counts[selectParetoCandidate(paretoFronts(skewed), [0.75, 0.25], rng)]! += 1;
    expect(counts[0]! / 4000).toBeGreaterThan(0.7);
    expect(counts[0]! / 4000).toBeLessThan(0.8);
  });

  it('falls back to the best aggregate when there are no fronts', () => {
    expect(selectParetoCandidate([], [0.1, 0.9, 0.9], new RecordingChooser())).toBe(1);
  });
});

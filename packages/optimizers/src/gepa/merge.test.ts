import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../random.ts';
import { type MergeHistory, type MergePool, proposeMerge, selectMergeSubsample } from './merge.ts';

function pool(): MergePool {
  return {
    candidates: [
      { a: 'A0', b: 'B0', c: 'C0' }, // seed
      { a: 'A1', b: 'B0', c: 'C1' }, // changed a and c
      { a: 'A0', b: 'B2', c: 'C2' }, // changed b and c
      { a: 'A1', b: 'B3', c: 'C1' }, // child of 1
    ],
    parents: [[null], [0], [0], [1]],
    aggregateScores: [0.2, 0.5, 0.6, 0.7],
  };
}

describe('GEPA merge', () => {
  it('takes each component from the descendant that changed it, the better one where both did', () => {
    const history: MergeHistory = { triplets: [], descriptions: [] };
    const merge = proposeMerge(new SeededRandom(0), [1, 2], pool(), history);
    expect(merge).toEqual({ candidate: { a: 'A1', b: 'B2', c: 'C2' }, id1: 1, id2: 2, ancestor: 0 });
    expect(history.descriptions).toEqual([[1, 2, [1, 2, 2]]]);
    // The same merge is not proposed twice.
    history.triplets.push([1, 2, 0]);
    expect(proposeMerge(new SeededRandom(0), [1, 2], pool(), history)).toBeUndefined();
  });

  it('never merges a program with its own ancestor, nor needs fewer than three programs', () => {
    const history: MergeHistory = { triplets: [], descriptions: [] };
    expect(proposeMerge(new SeededRandom(0), [1, 3], pool(), history)).toBeUndefined();
    const small = { ...pool(), parents: [[null], [0]] };
    expect(proposeMerge(new SeededRandom(0), [0, 1], small, history)).toBeUndefined();
  });

  it('skips an ancestor that scores better than a descendant', () => {
    const worse = { ...pool(), aggregateScores: [0.55, 0.5, 0.6, 0.7] };
    expect(proposeMerge(new SeededRandom(0), [1, 2], worse, { triplets: [], descriptions: [] })).toBeUndefined();
  });

  it('samples the merge subsample across wins of each parent and ties', () => {
    const ids = selectMergeSubsample(new SeededRandom(1), [1, 1, 0, 0, 1, 0, 1], [0, 0, 1, 1, 1, 0, 1]);
    expect(ids).toHaveLength(5);
    expect(new Set(ids).size).toBe(5);
    expect(ids.filter((i) => [0, 1].includes(i))).toHaveLength(2);
    expect(ids.filter((i) => [2, 3].includes(i))).toHaveLength(2);
    // Too few examples: repeats fill the subsample.
    expect(selectMergeSubsample(new SeededRandom(1), [1, 0], [0, 1])).toHaveLength(5);
  });
});

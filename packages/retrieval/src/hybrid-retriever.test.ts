import type { RetrievedPassage, RetrieveOptions, Retriever } from '@dspy-ts/core';
import { describe, expect, it } from 'vitest';
import { BM25Retriever } from './bm25-retriever.ts';
import { HybridRetriever } from './hybrid-retriever.ts';

/** A retriever returning a fixed ranking and recording what it was asked. */
class FixedRetriever implements Retriever {
  readonly calls: RetrieveOptions[] = [];
  constructor(private readonly texts: string[]) {}
  async retrieve(_query: string, options: RetrieveOptions = {}): Promise<RetrievedPassage[]> {
    this.calls.push(options);
    return this.texts.slice(0, options.k).map((text, i) => ({ text, score: 100 - i, id: text }));
  }
}

describe('HybridRetriever', () => {
  it('fuses rankings by reciprocal rank with rrfK = 60', async () => {
    const a = new FixedRetriever(['x', 'y', 'z']);
    const b = new FixedRetriever(['z', 'x', 'w']);
    const hybrid = new HybridRetriever({ retrievers: [a, b], k: 4 });
    const hits = await hybrid.retrieve('q');
    expect(hits.map((h) => h.text)).toEqual(['x', 'z', 'y', 'w']);
    expect(hits[0]!.score).toBeCloseTo(1 / 61 + 1 / 62, 12);
    expect(hits[1]!.score).toBeCloseTo(1 / 63 + 1 / 61, 12);
    expect(hits[2]!.score).toBeCloseTo(1 / 62, 12);
    expect(a.calls[0]).toMatchObject({ k: 8 });
  });

  it('weights retrievers and honours rrfK, k and candidates', async () => {
    const a = new FixedRetriever(['x', 'y']);
    const b = new FixedRetriever(['y', 'x']);
    const favourB = new HybridRetriever({ retrievers: [a, b], weights: [1, 2], rrfK: 0, candidates: 2 });
    const hits = await favourB.retrieve('q', { k: 1 });
    expect(hits).toEqual([{ text: 'y', id: 'y', score: 1 / 2 + 2 / 1 }]);
    expect(b.calls[0]).toMatchObject({ k: 2 });
  });

  it('passes the filter and signal through and fuses real retrievers', async () => {
    const corpus = [
      { id: 'a', text: 'solar panels convert sunlight into electricity', metadata: { topic: 'energy' } },
      { id: 'b', text: 'wind turbines generate electricity', metadata: { topic: 'energy' } },
      { id: 'c', text: 'sunlight and photosynthesis in plants', metadata: { topic: 'biology' } },
    ];
    const words = new BM25Retriever(corpus);
    const phrases = new BM25Retriever(corpus, { b: 1, k1: 2 });
    const hybrid = new HybridRetriever({ retrievers: [words, phrases], k: 2 });
    const hits = await hybrid.retrieve('sunlight electricity', { filter: { topic: 'energy' } });
    expect(hits.map((h) => h.id)).toEqual(['a', 'b']);
    await expect(hybrid.retrieve('x', { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'aborted' });
  });

  it('rejects an empty retriever list and mismatched weights', () => {
    expect(() => new HybridRetriever({ retrievers: [] })).toThrow(/expected at least one retriever, found 0/);
    expect(() => new HybridRetriever({ retrievers: [new FixedRetriever([])], weights: [1, 1] })).toThrow(
      /expected 1 non-negative weight\(s\), one per retriever, found \[1, 1\]/,
    );
  });
});

import { DspyError } from '@dspy-ts/core';
import { describe, expect, it } from 'vitest';
import { BM25Retriever } from './bm25-retriever.ts';
import { RetrievalError } from './errors.ts';

const corpus = [
  'The Eiffel Tower is in Paris, the capital of France.',
  'Berlin is the capital of Germany.',
  'The tower of London is a castle.',
  'Paris Hilton is an American media personality.',
  'Madrid is the capital and largest city of Spain.',
];

/** BM25 with Lucene's IDF and a passage's length taken as its number of distinct terms (MiniSearch's definition). */
function bm25(query: string[], doc: string[], docs: string[][], k1: number, b: number): number {
  const length = (d: string[]) => new Set(d).size;
  const avg = docs.reduce((sum, d) => sum + length(d), 0) / docs.length;
  let score = 0;
  for (const term of new Set(query)) {
    const n = docs.filter((d) => d.includes(term)).length;
    const tf = doc.filter((t) => t === term).length;
    if (tf === 0) continue;
    const idf = Math.log(1 + (docs.length - n + 0.5) / (n + 0.5));
    score += (idf * (tf * (k1 + 1))) / (tf + k1 * (1 - b + (b * length(doc)) / avg));
  }
  return score;
}

const tokens = (text: string) => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

describe('BM25Retriever', () => {
  it('ranks the passage sharing the rarest terms first and returns k passages with scores and ids', async () => {
    const retriever = new BM25Retriever(corpus, { k: 2 });
    const hits = await retriever.retrieve('Eiffel tower Paris');
    expect(hits).toHaveLength(2);
    expect(hits[0]).toMatchObject({ id: '0', text: corpus[0], metadata: {} });
    expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score!);
    expect(await retriever.retrieve('capital', { k: 10 })).toHaveLength(3);
  });

  it('scores with plain BM25 (k1, b mapped onto MiniSearch) rather than MiniSearch’s coordination-weighted score', async () => {
    const k1 = 1.5;
    const b = 0.75;
    const retriever = new BM25Retriever(corpus, { k1, b });
    const docs = corpus.map(tokens);
    const query = 'capital of france tower';
    const hits = await retriever.retrieve(query, { k: 5 });
    for (const hit of hits) {
      const expected = bm25(tokens(query), docs[Number(hit.id)]!, docs, k1, b);
      expect(hit.score).toBeCloseTo(expected, 6);
    }
    const expectedOrder = corpus
      .map((_, i) => ({ i, s: bm25(tokens(query), docs[i]!, docs, k1, b) }))
      .filter((x) => x.s > 0)
      .sort((x, y) => y.s - x.s)
      .map((x) => String(x.i));
    expect(hits.map((h) => h.id)).toEqual(expectedOrder);
  });

  it('changes ranking with b: b = 0 ignores passage length', async () => {
    const docs = ['apple', 'apple apple banana cherry date elderberry fig grape honeydew'];
    const noNorm = await new BM25Retriever(docs, { b: 0 }).retrieve('apple');
    const fullNorm = await new BM25Retriever(docs, { b: 1 }).retrieve('apple');
    expect(noNorm[0]!.id).toBe('1');
    expect(fullNorm[0]!.id).toBe('0');
  });

  it('drops stop words and filters by metadata equality', async () => {
    const retriever = new BM25Retriever(
      [
        { id: 'a', text: 'the cat sat on the mat', metadata: { lang: 'en', tags: ['pets'] } },
        { id: 'b', text: 'the dog sat on the log', metadata: { lang: 'en' } },
        { id: 'c', text: 'le chat', metadata: { lang: 'fr' } },
      ],
      { stopwords: ['the', 'on'] },
    );
    expect(await retriever.retrieve('the on')).toEqual([]);
    expect((await retriever.retrieve('sat', { filter: { tags: ['pets'] } })).map((h) => h.id)).toEqual(['a']);
    expect((await retriever.retrieve('sat chat', { filter: { lang: 'fr' } })).map((h) => h.id)).toEqual(['c']);
  });

  it('indexes more passages with add(), numbering them after the existing ones', async () => {
    const retriever = new BM25Retriever(['alpha']);
    retriever.add(['beta gamma']);
    expect(retriever.size).toBe(2);
    expect((await retriever.retrieve('gamma'))[0]).toMatchObject({ id: '1', text: 'beta gamma' });
    expect(() => retriever.add([{ id: '0', text: 'dup' }])).toThrow(/already indexed/);
  });

  it('rejects an empty corpus with a RetrievalError naming what was expected and found', () => {
    const error = (() => {
      try {
        new BM25Retriever([]);
      } catch (e) {
        return e;
      }
    })();
    expect(RetrievalError.isInstance(error)).toBe(true);
    expect(DspyError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ kind: 'empty_corpus', code: 'invalid_argument' });
    expect((error as Error).message).toMatch(/expected a non-empty corpus, found 0 passages/);
  });

  it('rejects bad k and bad parameters, and honours an aborted signal', async () => {
    const retriever = new BM25Retriever(corpus);
    await expect(retriever.retrieve('x', { k: 0 })).rejects.toThrow(/positive integer, found 0/);
    expect(() => new BM25Retriever(corpus, { b: 2 })).toThrow(/0 ≤ b ≤ 1/);
    await expect(retriever.retrieve('paris', { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'aborted',
    });
  });
});

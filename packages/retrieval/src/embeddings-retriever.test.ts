import type { Embedder, ProgressEvent } from '@dspy-ts/core';
import { describe, expect, it } from 'vitest';
import { HashEmbedder } from '../test/hash-embedder.ts';
import { EmbeddingsRetriever } from './embeddings-retriever.ts';
import { RetrievalError } from './errors.ts';
import { InMemoryVectorStore } from './in-memory-vector-store.ts';

const corpus = [
  'The cat sat on the mat.',
  'Dogs chase cats around the garden.',
  'Quantum computers use qubits.',
  'A qubit can be in superposition.',
  'The garden has roses and tulips.',
];

describe('EmbeddingsRetriever', () => {
  it('embeds the corpus in batches with progress callbacks and events, then retrieves nearest passages', async () => {
    const embedder = new HashEmbedder();
    const callbackEvents: ProgressEvent[] = [];
    const emitted: ProgressEvent[] = [];
    const retriever = new EmbeddingsRetriever({
      embedder,
      k: 2,
      batchSize: 2,
      onProgress: (e) => callbackEvents.push(e),
    });
    retriever.on('progress', (event) => emitted.push(event));
    expect(await retriever.index(corpus)).toBe(5);
    expect(embedder.batches.map((batch) => batch.length)).toEqual([2, 2, 1]);
    const expected = [2, 4, 5].map((completed) => ({ phase: 'embed', completed, total: 5 }));
    expect(callbackEvents).toEqual(expected);
    expect(emitted).toEqual(expected);

    const hits = await retriever.retrieve('qubits in superposition');
    expect(hits.map((h) => h.id)).toEqual(['3', '2']);
    expect(hits[0]!.text).toBe(corpus[3]);
    expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score!);
    expect(await retriever.store.count()).toBe(5);
  });

  it('stores L2-normalised vectors so inner product equals cosine similarity', async () => {
    const store = new InMemoryVectorStore({ dimensions: 2, metric: 'inner_product' });
    const embedder: Embedder = {
      dimensions: 2,
      embed: async (texts) => texts.map((t) => (t === 'east' ? Float32Array.of(10, 0) : Float32Array.of(3, 4))),
    };
    const retriever = await EmbeddingsRetriever.fromCorpus(['east', 'north-east'], { embedder, store, k: 2 });
    const hits = await retriever.retrieve('east');
    expect(hits.map((h) => h.text)).toEqual(['east', 'north-east']);
    expect(hits[0]!.score).toBeCloseTo(1, 6);
    expect(hits[1]!.score).toBeCloseTo(0.6, 6);
  });

  it('passes metadata through and filters on it', async () => {
    const retriever = await EmbeddingsRetriever.fromCorpus(
      [
        { id: 'en', text: 'cats and dogs', metadata: { lang: 'en' } },
        { id: 'de', text: 'cats und hunde', metadata: { lang: 'de' } },
      ],
      { embedder: new HashEmbedder() },
    );
    expect(await retriever.retrieve('cats', { filter: { lang: 'de' } })).toMatchObject([
      { id: 'de', metadata: { lang: 'de' } },
    ]);
  });

  it('names the passage whose embedding has the wrong dimension, keeping batches already stored', async () => {
    const store = new InMemoryVectorStore({ dimensions: 3 });
    const embedder: Embedder = {
      embed: async (texts) => texts.map((t) => (t === 'bad' ? Float32Array.of(1, 2) : Float32Array.of(1, 2, 3))),
    };
    const retriever = new EmbeddingsRetriever({ embedder, store, batchSize: 1 });
    const error = await retriever.index(['good', 'bad', 'never']).catch((e: unknown) => e);
    expect(RetrievalError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ kind: 'dimension_mismatch' });
    expect((error as Error).message).toMatch(/embedding of passage "1" to have 3 dimensions, found 2/);
    expect(await store.count()).toBe(1);
  });

  it('rejects an empty corpus, a wrong number of vectors, and stops between batches when aborted', async () => {
    const retriever = new EmbeddingsRetriever({ embedder: new HashEmbedder() });
    await expect(retriever.index([])).rejects.toMatchObject({ kind: 'empty_corpus' });
    const short: Embedder = { embed: async () => [Float32Array.of(1)] };
    await expect(new EmbeddingsRetriever({ embedder: short }).index(['a', 'b'])).rejects.toThrow(
      /expected the embedder to return 2 vector\(s\), one per text, found 1/,
    );
    const controller = new AbortController();
    const slow = new EmbeddingsRetriever({
      embedder: new HashEmbedder(),
      batchSize: 1,
      onProgress: () => controller.abort(),
    });
    await expect(slow.index(['a', 'b', 'c'], { signal: controller.signal })).rejects.toMatchObject({ code: 'aborted' });
    expect(await slow.store.count()).toBe(1);
  });
});

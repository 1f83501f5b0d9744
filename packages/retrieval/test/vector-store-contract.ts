import { expect, it } from 'vitest';
import { RetrievalError } from '../src/errors.ts';
import { InMemoryVectorStore } from '../src/in-memory-vector-store.ts';
import type { VectorMetric, VectorStore } from '../src/vector-store.ts';

/** Creates a fresh, empty store for one test. */
export type StoreFactory = (options: { dimensions: number; metric?: VectorMetric }) => Promise<VectorStore>;

/** A seeded pseudo-random generator (mulberry32), so failures reproduce. */
export function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` random vectors with components in [-1, 1). */
export function randomVectors(n: number, dimensions: number, seed: number): Float32Array[] {
  const next = random(seed);
  return Array.from({ length: n }, () => Float32Array.from({ length: dimensions }, () => next() * 2 - 1));
}

async function caught(promise: Promise<unknown>): Promise<RetrievalError> {
  try {
    await promise;
  } catch (error) {
    if (RetrievalError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

/** The behaviour every {@link VectorStore} must show; registers one `it` per behaviour in the calling `describe`. */
export function vectorStoreContract(create: StoreFactory): void {
  it('returns the nearest records best first, with cosine similarity as score, text and metadata', async () => {
    const store = await create({ dimensions: 3 });
    try {
      await store.upsert([
        { id: 'x', vector: [1, 0, 0], text: 'along x', metadata: { axis: 'x' } },
        { id: 'y', vector: [0, 2, 0], text: 'along y', metadata: { axis: 'y' } },
        { id: 'xy', vector: [1, 1, 0], text: 'diagonal' },
      ]);
      const hits = await store.query([1, 0.1, 0], { k: 2 });
      expect(hits.map((h) => h.id)).toEqual(['x', 'xy']);
      expect(hits[0]).toMatchObject({ text: 'along x', metadata: { axis: 'x' } });
      expect(hits[0]!.score).toBeCloseTo(1 / Math.sqrt(1.01), 5);
      expect(hits[1]!.score).toBeCloseTo(1.1 / Math.sqrt(2) / Math.sqrt(1.01), 5);
      expect(hits[1]!.metadata).toEqual({});
      expect(await store.count()).toBe(3);
    } finally {
      await store.close();
    }
  });

  it('scores by inner product when asked', async () => {
    const store = await create({ dimensions: 2, metric: 'inner_product' });
    try {
      await store.upsert([
        { id: 'short', vector: [1, 0] },
        { id: 'long', vector: [3, 3] },
      ]);
      const hits = await store.query([1, 0], { k: 2 });
      expect(hits.map((h) => [h.id, h.score])).toEqual([
        ['long', 3],
        ['short', 1],
      ]);
    } finally {
      await store.close();
    }
  });

  it('upserts idempotently by id, replacing vector, text and metadata', async () => {
    const store = await create({ dimensions: 2 });
    try {
      const records = [
        { id: 'a', vector: [1, 0], text: 'a1', metadata: { v: 1 } },
        { id: 'b', vector: [0, 1], text: 'b1' },
      ];
      await store.upsert(records);
      await store.upsert(records);
      expect(await store.count()).toBe(2);
      await store.upsert([{ id: 'a', vector: [0, 1], text: 'a2', metadata: { v: 2 } }]);
      expect(await store.count()).toBe(2);
      const [hit] = await store.query([0, 1], { k: 1, filter: { v: 2 } });
      expect(hit).toMatchObject({ id: 'a', text: 'a2', metadata: { v: 2 } });
      expect(hit!.score).toBeCloseTo(1, 5);
    } finally {
      await store.close();
    }
  });

  it('deletes by id, reporting how many existed', async () => {
    const store = await create({ dimensions: 2 });
    try {
      await store.upsert(['a', 'b', 'c'].map((id, i) => ({ id, vector: [1, i + 1] })));
      expect(await store.delete(['a', 'c', 'missing'])).toBe(2);
      expect(await store.count()).toBe(1);
      expect((await store.query([1, 0], { k: 5 })).map((h) => h.id)).toEqual(['b']);
      expect(await store.delete([])).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('filters by metadata equality: deep, key-order-insensitive, all keys must match', async () => {
    const store = await create({ dimensions: 2 });
    try {
      await store.upsert([
        { id: '1', vector: [1, 0], metadata: { lang: 'en', tags: ['a', 'b'], src: { site: 'w', year: 2020 } } },
        { id: '2', vector: [1, 0.1], metadata: { lang: 'en', tags: ['a'] } },
        { id: '3', vector: [1, 0.2], metadata: { lang: 'fr', tags: ['a', 'b'] } },
        { id: '4', vector: [1, 0.3], metadata: { lang: 'en', n: null } },
      ]);
      const ids = async (filter: Record<string, unknown>) =>
        (await store.query([1, 0], { k: 10, filter })).map((h) => h.id);
      expect(await ids({ lang: 'en' })).toEqual(['1', '2', '4']);
      expect(await ids({ lang: 'en', tags: ['a', 'b'] })).toEqual(['1']);
      expect(await ids({ tags: ['a'] })).toEqual(['2']);
      expect(await ids({ src: { year: 2020, site: 'w' } })).toEqual(['1']);
      expect(await ids({ n: null })).toEqual(['4']);
      expect(await ids({ lang: 'de' })).toEqual([]);
      expect(await store.count({ tags: ['a', 'b'] })).toBe(2);
    } finally {
      await store.close();
    }
  });

  it('rejects a vector of the wrong dimension, writing nothing from that batch', async () => {
    const store = await create({ dimensions: 3 });
    try {
      await store.upsert([{ id: 'kept', vector: [1, 0, 0] }]);
      const error = await caught(
        store.upsert([
          { id: 'new', vector: [0, 1, 0] },
          { id: 'bad', vector: [1, 2] },
        ]),
      );
      expect(error.kind).toBe('dimension_mismatch');
      expect(error.code).toBe('invalid_argument');
      expect(error.message).toMatch(/record "bad".*3 dimensions, found 2/);
      expect(await store.count()).toBe(1);
      const queryError = await caught(store.query([1, 0, 0, 0], { k: 1 }));
      expect(queryError.message).toMatch(/query vector to have 3 dimensions, found 4/);
    } finally {
      await store.close();
    }
  });

  it('rejects non-finite components and, under cosine, zero vectors', async () => {
    const store = await create({ dimensions: 2 });
    try {
      expect((await caught(store.upsert([{ id: 'nan', vector: [Number.NaN, 1] }]))).message).toMatch(
        /finite numbers, found NaN at index 0/,
      );
      expect((await caught(store.upsert([{ id: 'zero', vector: [0, 0] }]))).message).toMatch(/non-zero vector/);
      expect(await store.count()).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('agrees with the brute-force in-memory reference on random data', async () => {
    const dimensions = 16;
    const vectors = randomVectors(300, dimensions, 7);
    const queries = randomVectors(10, dimensions, 8);
    const store = await create({ dimensions });
    const reference = new InMemoryVectorStore({ dimensions });
    try {
      const records = vectors.map((vector, i) => ({ id: `v${i}`, vector }));
      await store.upsert(records);
      await reference.upsert(records);
      for (const query of queries) {
        const got = await store.query(query, { k: 10, exact: true });
        const want = await reference.query(query, { k: 10 });
        expect(got.map((h) => h.id)).toEqual(want.map((h) => h.id));
        for (const [i, hit] of got.entries()) expect(hit.score).toBeCloseTo(want[i]!.score, 5);
      }
    } finally {
      await store.close();
      await reference.close();
    }
  });
}

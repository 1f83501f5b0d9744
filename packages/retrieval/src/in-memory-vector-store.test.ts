import { describe, expect, it } from 'vitest';
import { randomVectors, vectorStoreContract } from '../test/vector-store-contract.ts';
import { InMemoryVectorStore } from './in-memory-vector-store.ts';

describe('InMemoryVectorStore', () => {
  vectorStoreContract(async (options) => new InMemoryVectorStore(options));

  it('learns its dimensions from the first upsert when not given', async () => {
    const store = new InMemoryVectorStore();
    expect(store.dimensions).toBeUndefined();
    await store.upsert([{ id: 'a', vector: [1, 2, 3, 4] }]);
    expect(store.dimensions).toBe(4);
    await expect(store.upsert([{ id: 'b', vector: [1, 2] }])).rejects.toMatchObject({ kind: 'dimension_mismatch' });
  });

  it('keeps the right vectors after deletes move rows around', async () => {
    const vectors = randomVectors(50, 8, 3);
    const store = new InMemoryVectorStore({ dimensions: 8 });
    await store.upsert(vectors.map((vector, i) => ({ id: String(i), vector })));
    await store.delete(['0', '10', '49', '25']);
    for (const i of [1, 9, 11, 48, 30]) {
      const [hit] = await store.query(vectors[i]!, { k: 1 });
      expect(hit!.id).toBe(String(i));
      expect(hit!.score).toBeCloseTo(1, 5);
    }
    expect(await store.count()).toBe(46);
  });

  it('returns copies of metadata, so callers cannot change stored records', async () => {
    const store = new InMemoryVectorStore({ dimensions: 1 });
    const metadata = { tags: ['a'] };
    await store.upsert([{ id: 'a', vector: [1], metadata }]);
    metadata.tags.push('changed');
    const [hit] = await store.query([1], { k: 1 });
    (hit!.metadata.tags as string[]).push('also changed');
    expect((await store.query([1], { k: 1 }))[0]!.metadata).toEqual({ tags: ['a'] });
  });

  it('fails clearly once closed', async () => {
    const store = new InMemoryVectorStore({ dimensions: 1 });
    await store.close();
    await expect(store.count()).rejects.toThrow(/expected an open store, found one already closed/);
  });
});

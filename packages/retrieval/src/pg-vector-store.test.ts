import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { random, randomVectors, vectorStoreContract } from '../test/vector-store-contract.ts';
import { RetrievalError } from './errors.ts';
import { InMemoryVectorStore } from './in-memory-vector-store.ts';
import { PgVectorStore } from './pg-vector-store.ts';

// One embedded database for the file (starting PGlite costs a second or two); every test gets its own table.
let db: PGlite;
let tables = 0;
const nextTable = () => `t_${++tables}`;

beforeAll(async () => {
  db = await PGlite.create({ extensions: { vector } });
});

afterAll(async () => {
  await db?.close();
});

/**
 * Embedding-like vectors: a mixture of `clusters` Gaussians on the unit sphere, each spread along its own few random
 * directions (low intrinsic dimension) plus a little isotropic noise. Uniformly random high-dimensional vectors are
 * the worst case for HNSW; real embeddings look more like this.
 */
function clusteredVectors(n: number, dimensions: number, clusters: number, seed: number): Float32Array[] {
  const next = random(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  const rank = 4;
  const shapes = Array.from({ length: clusters }, () => ({
    centre: Float32Array.from({ length: dimensions }, gauss),
    axes: Array.from({ length: rank }, () => Float32Array.from({ length: dimensions }, () => gauss() * 0.5)),
  }));
  return Array.from({ length: n }, () => {
    const { centre, axes } = shapes[Math.floor(next() * clusters)]!;
    const v = Float32Array.from(centre, (c) => c + gauss() * 0.1);
    for (const axis of axes) {
      const z = gauss();
      for (let i = 0; i < dimensions; i++) v[i]! += z * axis[i]!;
    }
    return v;
  });
}

/** Recall@k of `store` against the exact `reference` over `queries`. */
async function recallAt(
  k: number,
  store: PgVectorStore,
  reference: InMemoryVectorStore,
  queries: Float32Array[],
  efSearch?: number,
): Promise<number> {
  let found = 0;
  for (const query of queries) {
    const want = new Set((await reference.query(query, { k })).map((h) => h.id));
    const got = await store.query(query, { k, efSearch });
    expect(got).toHaveLength(k);
    found += got.filter((h) => want.has(h.id)).length;
  }
  return found / (k * queries.length);
}

describe('PgVectorStore on embedded PGlite', () => {
  vectorStoreContract((options) => PgVectorStore.open({ ...options, pglite: db, table: nextTable() }));

  it('rolls back a batch the database rejects, losing nothing already stored', async () => {
    const store = await PgVectorStore.open({ dimensions: 2, pglite: db, table: nextTable(), batchSize: 2 });
    await store.upsert([
      { id: 'a', vector: [1, 0], text: 'original a', metadata: { v: 1 } },
      { id: 'b', vector: [0, 1], text: 'original b' },
    ]);
    // Postgres refuses NUL characters in text, so the third statement fails after the first two were executed.
    const error = await store
      .upsert([
        { id: 'a', vector: [0, 1], text: 'overwritten a', metadata: { v: 2 } },
        { id: 'c', vector: [1, 1], text: 'new c' },
        { id: 'd', vector: [1, 2], text: 'new d' },
        { id: 'e', vector: [2, 1], text: 'new e' },
        { id: 'f', vector: [2, 2], text: 'bad \u0000 f' },
      ])
      .catch((e: unknown) => e);
    expect(RetrievalError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ kind: 'storage' });
    expect((error as Error).message).toMatch(/batch of 5 record\(s\) was rolled back, so nothing from it was written/);
    expect(await store.count()).toBe(2);
    const [a] = await store.query([1, 0], { k: 1 });
    expect(a).toMatchObject({ id: 'a', text: 'original a', metadata: { v: 1 } });
    // The store still works after the rollback.
    await store.upsert([{ id: 'c', vector: [1, 1], text: 'new c' }]);
    expect(await store.count()).toBe(3);
    await store.close();
  });

  it('keeps the last occurrence of an id repeated within one upsert', async () => {
    const store = await PgVectorStore.open({ dimensions: 2, pglite: db, table: nextTable() });
    await store.upsert([
      { id: 'a', vector: [1, 0], text: 'first' },
      { id: 'a', vector: [0, 1], text: 'second' },
    ]);
    expect(await store.query([0, 1], { k: 5 })).toMatchObject([{ id: 'a', text: 'second' }]);
    await store.close();
  });

  it('answers from an HNSW index with high recall, keeps filtered queries full, and can still search exactly', async () => {
    const dimensions = 16;
    const store = await PgVectorStore.open({
      dimensions,
      pglite: db,
      table: nextTable(),
      index: { type: 'hnsw', m: 8, efConstruction: 32, efSearch: 10 },
    });
    const reference = new InMemoryVectorStore({ dimensions });
    const records = randomVectors(400, dimensions, 11).map((v, i) => ({
      id: `v${i}`,
      vector: v,
      metadata: { group: i % 20 },
    }));
    await store.upsert(records);
    await reference.upsert(records);
    // The plan of the store's own query, under the store's ef_search (10), which pgvector's cost estimate uses.
    expect(await store.explain(records[0]!.vector, { k: 10 })).toMatch(/Index Scan using \w+_hnsw_cosine/);
    let found = 0;
    for (const query of randomVectors(20, dimensions, 12)) {
      const want = new Set((await reference.query(query, { k: 10 })).map((h) => h.id));
      const got = await store.query(query, { k: 10 });
      found += got.filter((h) => want.has(h.id)).length;
      const exact = await store.query(query, { k: 10, exact: true });
      expect(exact.map((h) => h.id)).toEqual([...want]);
      // 20 of 400 rows match: k rows come back whichever plan Postgres picks (iterative scan on the index path).
      const filtered = await store.query(query, { k: 10, filter: { group: 3 } });
      expect(filtered).toHaveLength(10);
      expect(filtered.every((h) => h.metadata.group === 3)).toBe(true);
    }
    expect(found / 200).toBeGreaterThanOrEqual(0.8);
    await store.close();
  });

  for (const [metric, operator, opclass] of [
    ['cosine', '<=>', 'vector_cosine_ops'],
    ['inner_product', '<#>', 'vector_ip_ops'],
  ] as const) {
    it(`answers ${metric} queries from the HNSW index (${opclass}, ${operator}) with recall@10 ≥ 0.95 on 3,000 clustered vectors`, async () => {
      const dimensions = 64;
      const store = await PgVectorStore.open({
        dimensions,
        metric,
        pglite: db,
        table: nextTable(),
        index: { type: 'hnsw', m: 16, efConstruction: 64, efSearch: 40 },
      });
      const reference = new InMemoryVectorStore({ dimensions, metric });
      const [data, queries] = [clusteredVectors(3000, dimensions, 30, 21), clusteredVectors(30, dimensions, 30, 21)];
      const records = data.map((vector, i) => ({ id: `v${i}`, vector }));
      await store.upsert(records);
      await reference.upsert(records);
      const index = await db.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE tablename = $1`, [
        store.table,
      ]);
      expect(index.rows.map((row) => row.indexdef).join('\n')).toContain(`USING hnsw (embedding ${opclass})`);
      const plan = await store.explain(queries[0]!, { k: 10 });
      expect(plan).toMatch(new RegExp(`Index Scan using ${store.table}_embedding_hnsw_${metric} on ${store.table}`));
      expect(plan).toContain(`Order By: (embedding ${operator} `);
      expect(plan).not.toMatch(/Seq Scan|Sort/);
      expect(await store.explain(queries[0]!, { k: 10, exact: true })).toMatch(/Seq Scan/);
      expect(await recallAt(10, store, reference, queries)).toBeGreaterThanOrEqual(0.95);
      await store.close();
    });
  }

  it('applies its own ef_search to each query, whatever the shared session has set', async () => {
    const dimensions = 32;
    const options = { dimensions, pglite: db, index: { type: 'hnsw', m: 8, efConstruction: 32 } } as const;
    const narrow = await PgVectorStore.open({
      ...options,
      table: nextTable(),
      index: { ...options.index, efSearch: 1 },
    });
    const store = await PgVectorStore.open({
      ...options,
      table: nextTable(),
      index: { ...options.index, efSearch: 100 },
    });
    const reference = new InMemoryVectorStore({ dimensions });
    const records = randomVectors(1500, dimensions, 31).map((vector, i) => ({ id: `v${i}`, vector }));
    await store.upsert(records);
    await narrow.upsert(records.slice(0, 20));
    await reference.upsert(records);
    const queries = randomVectors(20, dimensions, 32);
    try {
      // Another user of the borrowed PGlite session (here: a store opened later with efSearch 1, then an explicit SET)
      // must not narrow this store's search; before the fix the last session-wide SET won, and with ef_search = 1
      // and no iterative scan an index scan returns a single row.
      await db.exec('SET hnsw.ef_search = 1; SET hnsw.iterative_scan = off');
      expect(await store.explain(queries[0]!, { k: 10 })).toMatch(/Index Scan using \w+_hnsw_cosine/);
      const recall = await recallAt(10, store, reference, queries);
      expect(recall).toBeGreaterThanOrEqual(0.95);
      // The store sets nothing at session level.
      expect((await db.query<{ v: string }>(`SELECT current_setting('hnsw.ef_search') AS v`)).rows[0]!.v).toBe('1');
      // A per-query efSearch overrides the store's; a narrower search finds less.
      expect(await recallAt(10, store, reference, queries, 1000)).toBeGreaterThanOrEqual(recall);
      expect(await recallAt(10, store, reference, queries, 10)).toBeLessThan(recall);
      await expect(store.query(queries[0]!, { k: 10, efSearch: 0 })).rejects.toThrow(/efSearch .* found 0/);
    } finally {
      await db.exec('RESET hnsw.ef_search; RESET hnsw.iterative_scan');
      await narrow.close();
      await store.close();
    }
  });

  it('validates its options with messages naming the expected and found values', async () => {
    await expect(PgVectorStore.open({ dimensions: 0, pglite: db })).rejects.toThrow(/integer from 1 to 16000, found 0/);
    await expect(PgVectorStore.open({ dimensions: 2, pglite: db, table: 'Bad-Name' })).rejects.toThrow(
      /found "Bad-Name"/,
    );
    await expect(
      PgVectorStore.open({
        dimensions: 2,
        pglite: db,
        table: nextTable(),
        index: { type: 'hnsw', m: 16, efConstruction: 8 },
      }),
    ).rejects.toThrow(/efConstruction ≥ 2 × m = 32/);
  });
});

describe('PgVectorStore persisted to a directory', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'dspy-ts-pgvector-'));
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps records across close and reopen, and refuses to reopen with other dimensions', async () => {
    const first = await PgVectorStore.open({ dimensions: 3, dataDir, table: 'passages' });
    await first.upsert([
      { id: 'p1', vector: [1, 0, 0], text: 'persisted one', metadata: { n: 1 } },
      { id: 'p2', vector: [0, 1, 0], text: 'persisted two' },
    ]);
    await first.close();
    await first.close();
    await expect(first.count()).rejects.toThrow(/already closed/);

    const error = await PgVectorStore.open({ dimensions: 4, dataDir, table: 'passages' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'dimension_mismatch' });
    expect((error as Error).message).toMatch(/stores 3-dimensional vectors, found dimensions: 4/);

    const reopened = await PgVectorStore.open({ dimensions: 3, dataDir, table: 'passages' });
    expect(await reopened.count()).toBe(2);
    expect(await reopened.query([0.9, 0.1, 0], { k: 1 })).toMatchObject([
      { id: 'p1', text: 'persisted one', metadata: { n: 1 } },
    ]);
    await reopened.close();
  });
});

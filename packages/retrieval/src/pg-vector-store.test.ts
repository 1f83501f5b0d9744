import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomVectors, vectorStoreContract } from '../test/vector-store-contract.ts';
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
    const plan = await db.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN SELECT id FROM ${store.table} ORDER BY embedding <=> $1::vector LIMIT 10`,
      [`[${records[0]!.vector.join(',')}]`],
    );
    expect(plan.rows.map((row) => row['QUERY PLAN']).join('\n')).toMatch(/Index Scan using \w+_hnsw_cosine/);
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

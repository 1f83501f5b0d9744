import { createServer } from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vectorStoreContract } from '../test/vector-store-contract.ts';
import { RetrievalError } from './errors.ts';
import { PgVectorStore } from './pg-vector-store.ts';

// A real Postgres wire-protocol server on 127.0.0.1, backed by PGlite. It serves one connection at a time, so every
// store here uses a pool of one connection and is closed before the next opens.
let db: PGlite;
let server: PGLiteSocketServer;
let connectionString: string;
let tables = 0;

beforeAll(async () => {
  db = await PGlite.create({ extensions: { vector } });
  server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0 });
  await server.start();
  connectionString = `postgres://postgres:not-a-real-secret@${server.getServerConn()}/postgres`;
});

afterAll(async () => {
  await server?.stop();
  await db?.close();
});

/** Waits until the server has let go of the previous store's connection (it accepts one at a time). */
async function serverIdle(): Promise<void> {
  for (let i = 0; i < 200 && server.getStats().activeConnections > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Opens a store on a fresh table through the socket server. */
async function openOnServer(options: Omit<Parameters<typeof PgVectorStore.open>[0], 'connectionString'>) {
  await serverIdle();
  return PgVectorStore.open({ ...options, connectionString, pool: { max: 1 }, table: `srv_${++tables}` });
}

/** A localhost port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('PgVectorStore over the Postgres wire protocol (pg)', () => {
  vectorStoreContract((options) => openOnServer(options));

  it('creates and uses an HNSW index through the server, and rolls back a rejected batch', async () => {
    const store = await openOnServer({
      dimensions: 2,
      index: { type: 'hnsw', efSearch: 20 },
      batchSize: 1,
    });
    try {
      await store.upsert([{ id: 'a', vector: [1, 0], text: 'kept' }]);
      const error = await store
        .upsert([
          { id: 'b', vector: [0, 1], text: 'fine' },
          { id: 'c', vector: [1, 1], text: 'nul \u0000 byte' },
        ])
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'storage' });
      expect(await store.count()).toBe(1);
      const indexes = await db.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE tablename = $1`, [
        store.table,
      ]);
      expect(indexes.rows.map((row) => row.indexdef).join('\n')).toMatch(/USING hnsw \(embedding vector_cosine_ops\)/);
      expect(await store.query([1, 0.1], { k: 1 })).toMatchObject([{ id: 'a', text: 'kept' }]);
      // ef_search travels with each query (set_config(…, true) in its transaction), not with a pooled session.
      expect(await store.query([1, 0.1], { k: 1, efSearch: 5 })).toMatchObject([{ id: 'a' }]);
      expect(await store.explain([1, 0.1], { k: 1 })).toMatch(/^Limit/);
      const setting = await db.query<{ v: string }>(`SELECT current_setting('hnsw.ef_search', true) AS v`);
      expect(setting.rows[0]?.v ?? null).not.toBe('20');
    } finally {
      await store.close();
    }
  });

  it('reports an unreachable database as a connection error naming the address, without the password', async () => {
    const port = await closedPort();
    const error = await PgVectorStore.open({
      dimensions: 3,
      connectionString: `postgres://user:hunter2@127.0.0.1:${port}/vectors`,
      pool: { connectionTimeoutMillis: 5000 },
    }).catch((e: unknown) => e);
    expect(RetrievalError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ kind: 'connection', code: 'configuration', isRetryable: true });
    const message = (error as Error).message;
    expect(message).toContain(`127.0.0.1:${port}/vectors`);
    expect(message).toContain('ECONNREFUSED');
    expect(message).toMatch(/Expected a reachable Postgres server/);
    expect(message).not.toContain('hunter2');
  });
});

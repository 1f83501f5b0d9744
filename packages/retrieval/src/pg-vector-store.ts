import type { PGlite } from '@electric-sql/pglite';
import { checkK } from './corpus.ts';
import { RetrievalError, throwIfAborted } from './errors.ts';
import type { MetadataFilter } from './metadata-filter.ts';
import {
  connectionError,
  describeConnectionString,
  networkErrorCode,
  PGliteDriver,
  PgPoolDriver,
  type SqlDriver,
  type SqlExecutor,
} from './sql-driver.ts';
import { normalizeInPlace, toFloat32, type VectorLike } from './vector-math.ts';
import type {
  VectorMatch,
  VectorMetric,
  VectorQueryOptions,
  VectorRecord,
  VectorStore,
  VectorUpsertOptions,
} from './vector-store.ts';

/**
 * An HNSW index (pgvector `USING hnsw`): approximate, much faster than a full scan on large tables.
 * Defaults are pgvector's: `m = 16`, `efConstruction = 64`, `efSearch = 40`.
 */
export interface HnswIndexOptions {
  /** Index type. */
  type: 'hnsw';
  /** Max connections per layer (`WITH (m = …)`). Higher: better recall, bigger index. */
  m?: number;
  /** Candidate list size while building (`WITH (ef_construction = …)`). Higher: better recall, slower build. */
  efConstruction?: number;
  /**
   * Candidate list size while searching (`hnsw.ef_search`, set for each query's own transaction). Higher: better
   * recall, slower queries. Recall at a given value depends on the data: on clustered, embedding-like vectors the
   * default 40 is usually enough, on uniformly random high-dimensional vectors it needs hundreds (see the retrieval
   * benchmark). Overridable per query with {@link PgVectorQueryOptions.efSearch}.
   */
  efSearch?: number;
}

/** Options of {@link PgVectorStore.query}: those of every {@link VectorStore}, plus the HNSW search width. */
export interface PgVectorQueryOptions extends VectorQueryOptions {
  /**
   * `hnsw.ef_search` for this query only (1 to 1000), overriding the index's `efSearch`. Ignored by exact search.
   */
  efSearch?: number;
}

/** How {@link PgVectorStore} searches: `{ type: 'exact' }` scans every row; HNSW uses an approximate index. */
export type PgVectorIndexOptions = { type: 'exact' } | HnswIndexOptions;

/** Options of {@link PgVectorStore.open}. */
export interface PgVectorStoreOptions {
  /** Length of every vector (the column type `vector(dimensions)`). */
  dimensions: number;
  /**
   * A Postgres server (with pgvector installed or installable) to talk to through `pg`, e.g.
   * `postgres://user:pass@127.0.0.1:5432/db`. When left out, an embedded PGlite database is used.
   */
  connectionString?: string;
  /** Directory where the embedded PGlite database persists; left out, it lives in memory. Ignored with a server. */
  dataDir?: string;
  /** An already-open PGlite instance created with the pgvector extension; it is not closed by {@link PgVectorStore.close}. */
  pglite?: PGlite;
  /** `pg` pool settings for a server connection. Default `{ max: 10, connectionTimeoutMillis: 10000 }`. */
  pool?: { max?: number; connectionTimeoutMillis?: number; idleTimeoutMillis?: number };
  /** Table holding the vectors (created when missing). Lower-case letters, digits and `_`. Default `dspy_vectors`. */
  table?: string;
  /** How vectors are compared. Default `cosine`. */
  metric?: VectorMetric;
  /** Exact search (default) or an HNSW index, created when missing. */
  index?: PgVectorIndexOptions;
  /** Rows per INSERT statement inside an upsert's transaction. Default 500. */
  batchSize?: number;
}

const TABLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

const OPERATORS: Record<VectorMetric, { operator: string; opclass: string; toScore: (distance: number) => number }> = {
  // pgvector's `<=>` is the cosine distance 1 − cos, `<#>` the negative inner product.
  cosine: { operator: '<=>', opclass: 'vector_cosine_ops', toScore: (distance) => 1 - distance },
  inner_product: { operator: '<#>', opclass: 'vector_ip_ops', toScore: (distance) => -distance },
};

/** Text form pgvector parses: `[0.1,0.2,…]`. */
function vectorLiteral(vector: Float32Array): string {
  return `[${vector.join(',')}]`;
}

/**
 * A vector store in Postgres with pgvector. By default it runs embedded: PGlite (Postgres compiled to WASM) with its
 * pgvector extension, in memory or persisted to `dataDir`. Given a `connectionString`, the same class sends the same
 * SQL to a Postgres server through `pg`.
 *
 * Rows live in one table `(id text primary key, embedding vector(d), content text, metadata jsonb)`. Upserts run in
 * a transaction (`INSERT … ON CONFLICT (id) DO UPDATE`), so they are idempotent and a failed batch writes nothing.
 * Search is exact unless `index: { type: 'hnsw' }` is given; {@link VectorQueryOptions.exact} forces an exact scan
 * either way. Metadata filters compile to `metadata -> 'key' = $n::jsonb`, with pgvector's iterative index scan
 * (`hnsw.iterative_scan = strict_order`) so filtered HNSW queries still return `k` rows when enough match.
 *
 * @example
 * ```ts
 * const store = await PgVectorStore.open({ dimensions: 384, dataDir: './vectors', index: { type: 'hnsw' } });
 * await store.upsert([{ id: 'p1', vector, text: 'Paris is the capital of France.' }]);
 * const hits = await store.query(queryVector, { k: 5 });
 * await store.close();
 * ```
 */
export class PgVectorStore implements VectorStore {
  /** Length of every stored vector. */
  readonly dimensions: number;
  /** How vectors are compared. */
  readonly metric: VectorMetric;
  /** The table holding the vectors. */
  readonly table: string;
  private readonly driver: SqlDriver;
  private readonly batchSize: number;
  private indexed = false;
  private efSearch = 40;
  private closed = false;

  private constructor(driver: SqlDriver, options: PgVectorStoreOptions, table: string) {
    this.driver = driver;
    this.dimensions = options.dimensions;
    this.metric = options.metric ?? 'cosine';
    this.table = table;
    this.batchSize = options.batchSize ?? 500;
  }

  /**
   * Opens (and creates when missing) the store: connects, installs pgvector, creates the table and, when asked, the
   * HNSW index. Fails with a `connection` {@link RetrievalError} when the server cannot be reached and a
   * `dimension_mismatch` one when the table already holds vectors of another length.
   */
  static async open(options: PgVectorStoreOptions): Promise<PgVectorStore> {
    const dims = options.dimensions;
    // pgvector's `vector` type holds at most 16,000 dimensions (2,000 for an HNSW index).
    if (!Number.isInteger(dims) || dims < 1 || dims > 16_000) {
      throw new RetrievalError(
        'invalid_argument',
        `PgVectorStore.open: expected dimensions to be an integer from 1 to 16000, found ${String(dims)}.`,
      );
    }
    const table = options.table ?? 'dspy_vectors';
    if (!TABLE_NAME.test(table)) {
      throw new RetrievalError(
        'invalid_argument',
        `PgVectorStore.open: expected table to match ${TABLE_NAME} (lower-case letters, digits, _), found "${table}".`,
      );
    }
    if (options.metric !== undefined && !(options.metric in OPERATORS)) {
      throw new RetrievalError(
        'invalid_argument',
        `PgVectorStore.open: expected metric "cosine" or "inner_product", found "${String(options.metric)}".`,
      );
    }
    if (options.batchSize !== undefined && (!Number.isInteger(options.batchSize) || options.batchSize < 1)) {
      throw new RetrievalError(
        'invalid_argument',
        `PgVectorStore.open: expected batchSize to be a positive integer, found ${String(options.batchSize)}.`,
      );
    }
    const driver = await PgVectorStore.connect(options);
    const store = new PgVectorStore(driver, options, table);
    try {
      await store.initialise(options.index ?? { type: 'exact' });
    } catch (error) {
      await driver.close().catch(() => {});
      throw error;
    }
    return store;
  }

  private static async connect(options: PgVectorStoreOptions): Promise<SqlDriver> {
    if (options.connectionString !== undefined) {
      const description = describeConnectionString(options.connectionString);
      // Loaded on demand: embedded use never needs the network client, and vice versa.
      const { default: pg } = await import('pg');
      const pool = new pg.Pool({
        connectionString: options.connectionString,
        max: options.pool?.max ?? 10,
        connectionTimeoutMillis: options.pool?.connectionTimeoutMillis ?? 10_000,
        idleTimeoutMillis: options.pool?.idleTimeoutMillis ?? 10_000,
      });
      // An idle client losing its server must not crash the process; the next query reports the failure.
      pool.on('error', () => {});
      const driver = new PgPoolDriver(pool, description);
      try {
        (await driver.connect()).release();
      } catch (error) {
        await pool.end().catch(() => {});
        throw error;
      }
      return driver;
    }
    if (options.pglite !== undefined) return new PGliteDriver(options.pglite, 'PGlite (borrowed instance)', false);
    const [{ PGlite }, { vector }] = await Promise.all([
      import('@electric-sql/pglite'),
      import('@electric-sql/pglite-pgvector'),
    ]);
    const extensions = { vector };
    const description = options.dataDir === undefined ? 'PGlite (in memory)' : `PGlite at ${options.dataDir}`;
    try {
      const db =
        options.dataDir === undefined
          ? await PGlite.create({ extensions })
          : await PGlite.create(options.dataDir, { extensions });
      return new PGliteDriver(db, description, true);
    } catch (error) {
      throw new RetrievalError(
        'storage',
        `PgVectorStore.open: could not open ${description}: ${(error as Error)?.message ?? String(error)}. ` +
          'Expected a writable directory holding a PGlite database (or none yet).',
        { cause: error },
      );
    }
  }

  private async initialise(index: PgVectorIndexOptions): Promise<void> {
    await this.run('open', async () => {
      await this.driver.query('CREATE EXTENSION IF NOT EXISTS vector');
      await this.driver.query(
        `CREATE TABLE IF NOT EXISTS ${this.table} (
           id text PRIMARY KEY,
           embedding vector(${this.dimensions}) NOT NULL,
           content text NOT NULL DEFAULT '',
           metadata jsonb NOT NULL DEFAULT '{}'::jsonb
         )`,
      );
    });
    const [column] = await this.run('open', () =>
      this.driver.query<{ dims: number }>(
        `SELECT atttypmod AS dims FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'embedding'`,
        [this.table],
      ),
    );
    if (column !== undefined && column.dims !== this.dimensions) {
      throw new RetrievalError(
        'dimension_mismatch',
        `PgVectorStore.open: table "${this.table}" in ${this.driver.description} stores ${column.dims}-dimensional ` +
          `vectors, found dimensions: ${this.dimensions} in the options. Open it with dimensions: ${column.dims} or ` +
          'use another table.',
      );
    }
    const existing = await this.run('open', () =>
      this.driver.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_indexes WHERE tablename = $1 AND indexdef ILIKE '%USING hnsw%'`,
        [this.table],
      ),
    );
    this.indexed = (existing[0]?.n ?? 0) > 0;
    if (index.type === 'hnsw') await this.createIndex(index);
  }

  /**
   * Creates the HNSW index when missing (building it over the rows already stored) and makes `efSearch` the search
   * width of this store's later queries. Building after a bulk load is faster than inserting into an existing index.
   */
  async createIndex(index: Omit<HnswIndexOptions, 'type'> & { type?: 'hnsw' } = {}): Promise<void> {
    this.checkOpen();
    const m = index.m ?? 16;
    const efConstruction = index.efConstruction ?? 64;
    const efSearch = index.efSearch ?? 40;
    for (const [name, value, min, max] of [
      ['m', m, 2, 100],
      ['efConstruction', efConstruction, 4, 1000],
      ['efSearch', efSearch, 1, 1000],
    ] as const) {
      if (!Number.isInteger(value) || value < min || value > max) {
        throw new RetrievalError(
          'invalid_argument',
          `PgVectorStore: expected index.${name} to be an integer from ${min} to ${max}, found ${String(value)}.`,
        );
      }
    }
    if (efConstruction < 2 * m) {
      throw new RetrievalError(
        'invalid_argument',
        `PgVectorStore: expected index.efConstruction ≥ 2 × m = ${2 * m} (a pgvector rule), found ${efConstruction}.`,
      );
    }
    if (this.dimensions > 2000) {
      throw new RetrievalError(
        'dimension_mismatch',
        `PgVectorStore: an HNSW index holds vectors of at most 2000 dimensions, found ${this.dimensions}. Use exact search.`,
      );
    }
    const { opclass } = OPERATORS[this.metric];
    await this.run('createIndex', () =>
      this.driver.query(
        `CREATE INDEX IF NOT EXISTS ${this.table}_embedding_hnsw_${this.metric}
           ON ${this.table} USING hnsw (embedding ${opclass}) WITH (m = ${m}, ef_construction = ${efConstruction})`,
      ),
    );
    this.indexed = true;
    this.efSearch = efSearch;
  }

  /**
   * Inserts or replaces records by id in one transaction: every record is validated first, rows are written in
   * statements of `batchSize`, and any failure rolls the whole call back. A record repeated within the call keeps
   * its last occurrence.
   */
  async upsert(records: readonly VectorRecord[], options: VectorUpsertOptions = {}): Promise<void> {
    this.checkOpen();
    throwIfAborted(options.signal, 'PgVectorStore.upsert');
    const latest = new Map<string, { vector: string; content: string; metadata: string }>();
    records.forEach((record, i) => {
      if (typeof record?.id !== 'string') {
        throw new RetrievalError(
          'invalid_argument',
          `PgVectorStore.upsert: expected records[${i}].id to be a string, found ${record === null ? 'null' : typeof record?.id}.`,
        );
      }
      const what = `the vector of record "${record.id}"`;
      const vector = toFloat32(record.vector, this.dimensions, 'PgVectorStore.upsert', what);
      // pgvector's cosine distance of a zero vector is NaN; reject it here rather than rank it arbitrarily.
      if (this.metric === 'cosine') normalizeInPlace(Float32Array.from(vector), 'PgVectorStore.upsert', what);
      if (
        record.metadata !== undefined &&
        (record.metadata === null || typeof record.metadata !== 'object' || Array.isArray(record.metadata))
      ) {
        throw new RetrievalError(
          'invalid_argument',
          `PgVectorStore.upsert: expected the metadata of record "${record.id}" to be a plain object, found ${Array.isArray(record.metadata) ? 'an array' : typeof record.metadata}.`,
        );
      }
      latest.delete(record.id);
      latest.set(record.id, {
        vector: vectorLiteral(vector),
        content: record.text ?? '',
        metadata: JSON.stringify(record.metadata ?? {}),
      });
    });
    if (latest.size === 0) return;
    const rows = [...latest.entries()];
    const sql = `INSERT INTO ${this.table} (id, embedding, content, metadata)
      SELECT * FROM unnest($1::text[], $2::text[]::vector[], $3::text[], $4::text[]::jsonb[])
      ON CONFLICT (id) DO UPDATE SET embedding = EXCLUDED.embedding, content = EXCLUDED.content, metadata = EXCLUDED.metadata`;
    await this.run(
      'upsert',
      () =>
        this.driver.transaction(async (tx) => {
          for (let start = 0; start < rows.length; start += this.batchSize) {
            throwIfAborted(options.signal, 'PgVectorStore.upsert');
            const chunk = rows.slice(start, start + this.batchSize);
            await tx.query(sql, [
              chunk.map(([id]) => id),
              chunk.map(([, row]) => row.vector),
              chunk.map(([, row]) => row.content),
              chunk.map(([, row]) => row.metadata),
            ]);
          }
        }),
      `the batch of ${rows.length} record(s) was rolled back, so nothing from it was written`,
    );
  }

  /** Deletes records by id and returns how many existed. */
  async delete(ids: readonly string[]): Promise<number> {
    this.checkOpen();
    if (ids.length === 0) return 0;
    const [row] = await this.run('delete', () =>
      this.driver.query<{ n: number }>(
        `WITH deleted AS (DELETE FROM ${this.table} WHERE id = ANY($1::text[]) RETURNING 1) SELECT count(*)::int AS n FROM deleted`,
        [ids],
      ),
    );
    return row?.n ?? 0;
  }

  /**
   * The `k` most similar records, best first (scores as in {@link VectorMetric}). With an HNSW index the query runs
   * in its own transaction with `hnsw.ef_search` (the index's `efSearch`, or `options.efSearch`) and
   * `hnsw.iterative_scan = strict_order` set locally, so the settings hold whichever connection runs it and never
   * leak into other users of the session. Postgres may still choose an exact sequential scan when it estimates that
   * to be cheaper (small tables, large `efSearch`); {@link PgVectorStore.explain} shows the plan.
   */
  async query(vector: VectorLike, options: PgVectorQueryOptions): Promise<VectorMatch[]> {
    type Row = { id: string; content: string; metadata: Record<string, unknown>; distance: number };
    const rows = await this.search<Row>('query', vector, options, '');
    const { toScore } = OPERATORS[this.metric];
    throwIfAborted(options.signal, 'PgVectorStore.query');
    return rows.map((row) => ({
      id: row.id,
      score: toScore(Number(row.distance)),
      text: row.content,
      metadata: row.metadata ?? {},
    }));
  }

  /**
   * The plan Postgres chooses for {@link PgVectorStore.query} with the same vector and options (the text of
   * `EXPLAIN`, one line per plan line), run under the same settings. An HNSW search shows
   * `Index Scan using <table>_embedding_hnsw_<metric>`; an exact one a `Seq Scan` under a `Sort`.
   */
  async explain(vector: VectorLike, options: PgVectorQueryOptions): Promise<string> {
    const rows = await this.search<{ 'QUERY PLAN': string }>('explain', vector, options, 'EXPLAIN ');
    return rows.map((row) => row['QUERY PLAN']).join('\n');
  }

  private async search<R>(
    operation: 'query' | 'explain',
    vector: VectorLike,
    options: PgVectorQueryOptions,
    prefix: string,
  ): Promise<R[]> {
    const where = `PgVectorStore.${operation}`;
    this.checkOpen();
    throwIfAborted(options.signal, where);
    const k = checkK(options.k, where);
    const efSearch = options.efSearch ?? this.efSearch;
    if (!Number.isInteger(efSearch) || efSearch < 1 || efSearch > 1000) {
      throw new RetrievalError(
        'invalid_argument',
        `${where}: expected efSearch to be an integer from 1 to 1000, found ${String(efSearch)}.`,
      );
    }
    const q = toFloat32(vector, this.dimensions, where, 'the query vector');
    if (this.metric === 'cosine') normalizeInPlace(Float32Array.from(q), where, 'the query vector');
    const { operator } = OPERATORS[this.metric];
    const params: unknown[] = [vectorLiteral(q), k];
    const filter = this.whereClause(options.filter, params);
    // The bare `ORDER BY embedding <op> $1 LIMIT $2` is the form pgvector answers from the index.
    const sql = `${prefix}SELECT id, content, metadata, embedding ${operator} $1::vector AS distance FROM ${this.table}${filter}
      ORDER BY embedding ${operator} $1::vector LIMIT $2`;
    if (!this.indexed) return this.run(operation, () => this.driver.query<R>(sql, params));
    return this.run(operation, () =>
      this.driver.transaction(async (tx: SqlExecutor) => {
        if (options.exact) {
          // Planner switches, local to this transaction: no index scan means an exact sequential scan.
          await tx.query('SET LOCAL enable_indexscan = off');
          await tx.query('SET LOCAL enable_bitmapscan = off');
        } else {
          // Local to this transaction (`is_local = true`), on the connection that runs the query. The iterative scan
          // keeps walking the graph until `k` rows pass a metadata filter, still in exact distance order.
          await tx.query(
            `SELECT set_config('hnsw.ef_search', $1, true), set_config('hnsw.iterative_scan', 'strict_order', true)`,
            [String(efSearch)],
          );
        }
        return tx.query<R>(sql, params);
      }),
    );
  }

  /** Number of records, optionally only those matching `filter`. */
  async count(filter?: MetadataFilter): Promise<number> {
    this.checkOpen();
    const params: unknown[] = [];
    const where = this.whereClause(filter, params);
    const [row] = await this.run('count', () =>
      this.driver.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${this.table}${where}`, params),
    );
    return row?.n ?? 0;
  }

  /** Closes the database (an embedded PGlite flushes to `dataDir`) or the connection pool. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.driver.close();
  }

  private whereClause(filter: MetadataFilter | undefined, params: unknown[]): string {
    if (filter === undefined) return '';
    const clauses: string[] = [];
    for (const [key, value] of Object.entries(filter)) {
      if (value === undefined) continue;
      params.push(key, JSON.stringify(value));
      clauses.push(`metadata -> $${params.length - 1}::text = $${params.length}::jsonb`);
    }
    return clauses.length === 0 ? '' : ` WHERE ${clauses.join(' AND ')}`;
  }

  /** Runs a database call, turning driver failures into {@link RetrievalError}s that name the operation. */
  private async run<T>(operation: string, fn: () => Promise<T>, consequence?: string): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (RetrievalError.isInstance(error) || (error as { code?: unknown })?.code === 'aborted') throw error;
      if (networkErrorCode(error) !== undefined) throw connectionError(this.driver.description, error);
      const message = (error as Error)?.message ?? String(error);
      throw new RetrievalError(
        'storage',
        `PgVectorStore.${operation}: ${this.driver.description} rejected the statement: ${message}` +
          (consequence ? ` (${consequence}).` : '.'),
        { cause: error },
      );
    }
  }

  private checkOpen(): void {
    if (this.closed) {
      throw new RetrievalError('invalid_argument', 'PgVectorStore: expected an open store, found one already closed.');
    }
  }
}

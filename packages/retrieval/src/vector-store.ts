import type { MetadataFilter } from './metadata-filter.ts';
import type { VectorLike } from './vector-math.ts';

/**
 * How stored vectors are compared. Scores are always "higher is better":
 * - `cosine`: cosine similarity in [-1, 1] (pgvector `<=>`, score = 1 − distance);
 * - `inner_product`: the dot product (pgvector `<#>`, score = −distance). Equal to cosine for unit vectors.
 */
export type VectorMetric = 'cosine' | 'inner_product';

/** One vector to store, with the passage it embeds. */
export interface VectorRecord {
  /** Unique id; upserting an existing id replaces its vector, text and metadata. */
  id: string;
  /** The embedding. Its length must equal the store's dimensions. */
  vector: VectorLike;
  /** The passage text, returned by queries. */
  text?: string;
  /** JSON metadata, returned by queries and matched by filters. */
  metadata?: Record<string, unknown>;
}

/** One query hit. */
export interface VectorMatch {
  /** The record's id. */
  id: string;
  /** Similarity under the store's metric, higher is better (see {@link VectorMetric}). */
  score: number;
  /** The record's text (empty string when none was stored). */
  text: string;
  /** The record's metadata (an empty object when none was stored). */
  metadata: Record<string, unknown>;
}

/** Options of {@link VectorStore.query}. */
export interface VectorQueryOptions {
  /** Number of hits to return. */
  k: number;
  /** Only records whose metadata matches (see {@link MetadataFilter}). */
  filter?: MetadataFilter;
  /** Bypass any approximate index and compare against every stored vector. */
  exact?: boolean;
  /** Cancels the query. */
  signal?: AbortSignal;
}

/** Options of {@link VectorStore.upsert}. */
export interface VectorUpsertOptions {
  /** Cancels the upsert; a cancelled upsert writes nothing. */
  signal?: AbortSignal;
}

/**
 * A store of id-keyed vectors with text and metadata. Implementations: {@link InMemoryVectorStore} (exact, the
 * recall reference) and {@link PgVectorStore} (Postgres + pgvector, embedded or over the network).
 *
 * An `upsert` is atomic: either every record of the call is written or, when any is rejected, none is.
 */
export interface VectorStore {
  /** Length of every stored vector; `undefined` until known (an in-memory store learns it from its first upsert). */
  readonly dimensions: number | undefined;
  /** How vectors are compared. */
  readonly metric: VectorMetric;
  /** Inserts or replaces records by id, all or nothing. */
  upsert(records: readonly VectorRecord[], options?: VectorUpsertOptions): Promise<void>;
  /** Deletes records by id and returns how many existed. */
  delete(ids: readonly string[]): Promise<number>;
  /** The `k` records most similar to `vector`, best first. */
  query(vector: VectorLike, options: VectorQueryOptions): Promise<VectorMatch[]>;
  /** Number of records, optionally only those matching `filter`. */
  count(filter?: MetadataFilter): Promise<number>;
  /** Releases the store's resources (database connections, files). */
  close(): Promise<void>;
}

/**
 * `@dspy-ts/retrieval`: retrievers for dspy-ts programs — BM25 over an in-memory corpus, dense retrieval over
 * embeddings, vector stores from brute force in memory to Postgres + pgvector (embedded PGlite or a server), a
 * ColBERTv2 client, and reciprocal-rank fusion. Every retriever implements core's `Retriever`, so it plugs into
 * `configure({ rm })` and the `Retrieve` module.
 *
 * @example
 * ```ts
 * import { configure } from '@dspy-ts/core';
 * import { BM25Retriever } from '@dspy-ts/retrieval';
 *
 * configure({ rm: new BM25Retriever(passages, { k: 3 }) });
 * ```
 *
 * @module
 */
export { BM25Retriever, type BM25RetrieverOptions } from './bm25-retriever.ts';
export { ColBERTv2, type ColBERTv2Options, type ColBERTv2Passage } from './colbertv2.ts';
export type { CorpusEntry, CorpusPassage } from './corpus.ts';
export {
  type EmbeddingsIndexOptions,
  EmbeddingsRetriever,
  type EmbeddingsRetrieverEvents,
  type EmbeddingsRetrieverOptions,
} from './embeddings-retriever.ts';
export { RetrievalError, type RetrievalErrorKind } from './errors.ts';
export { HybridRetriever, type HybridRetrieverOptions } from './hybrid-retriever.ts';
export { InMemoryVectorStore, type InMemoryVectorStoreOptions } from './in-memory-vector-store.ts';
export type { MetadataFilter } from './metadata-filter.ts';
export {
  type HnswIndexOptions,
  type PgVectorIndexOptions,
  type PgVectorQueryOptions,
  PgVectorStore,
  type PgVectorStoreOptions,
} from './pg-vector-store.ts';
export type { VectorLike } from './vector-math.ts';
export type {
  VectorMatch,
  VectorMetric,
  VectorQueryOptions,
  VectorRecord,
  VectorStore,
  VectorUpsertOptions,
} from './vector-store.ts';

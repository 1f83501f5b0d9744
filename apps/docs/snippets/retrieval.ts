import { configure } from '@dspy-ts/core';
import { embedder } from '@dspy-ts/lm-adapters';
import { BM25Retriever, EmbeddingsRetriever, HybridRetriever, PgVectorStore } from '@dspy-ts/retrieval';

const corpus = [
  { id: 'eiffel', text: 'The Eiffel Tower was completed in 1889.', metadata: { city: 'Paris' } },
  { id: 'liberty', text: 'The Statue of Liberty was dedicated in 1886.', metadata: { city: 'New York' } },
];

// #region bm25
// Lexical search over an in-memory corpus: no model, no service.
const bm25 = new BM25Retriever(corpus, { k: 5 });
const [best] = await bm25.retrieve('When was the Eiffel Tower finished?');
console.log(best?.id, best?.score); // 'eiffel', its BM25 score
// #endregion bm25

// #region dense
// Dense search: any Embedder (here an AI SDK embedding model) over a vector store. PgVectorStore runs
// Postgres + pgvector embedded in the process (PGlite) — or pass a connection to a Postgres server.
const store = await PgVectorStore.open({ dimensions: 1536, dataDir: './vectors', index: { type: 'hnsw' } });
const dense = new EmbeddingsRetriever({ embedder: embedder('openai/text-embedding-3-small'), store, k: 5 });
await dense.index(corpus);
// #endregion dense

// #region hybrid
// Reciprocal-rank fusion of both, used by every Retrieve module of the program:
configure({ rm: new HybridRetriever({ retrievers: [bm25, dense], k: 3 }) });
// #endregion hybrid

await store.close();

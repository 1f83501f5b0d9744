import { createServer, type Server } from 'node:http';
import { configure, context, Retrieve, type Retriever } from '@dspy-ts/core';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  BM25Retriever,
  ColBERTv2,
  EmbeddingsRetriever,
  HybridRetriever,
  InMemoryVectorStore,
  PgVectorStore,
} from '../src/index.ts';
import { HashEmbedder } from './hash-embedder.ts';

const corpus = [
  { id: 'fr', text: 'Paris is the capital of France.', metadata: { region: 'europe' } },
  { id: 'de', text: 'Berlin is the capital of Germany.', metadata: { region: 'europe' } },
  { id: 'jp', text: 'Tokyo is the capital of Japan.', metadata: { region: 'asia' } },
  { id: 'pe', text: 'Lima is the capital of Peru.', metadata: { region: 'americas' } },
];

let db: PGlite;
let colbertServer: Server;
let colbertUrl: string;

beforeAll(async () => {
  db = await PGlite.create({ extensions: { vector } });
  // A ColBERTv2 stand-in that ranks the corpus by shared words, speaking the server's JSON.
  const bm25 = new BM25Retriever(corpus);
  colbertServer = createServer(async (request, response) => {
    const url = new URL(request.url!, 'http://127.0.0.1');
    const hits = await bm25.retrieve(url.searchParams.get('query')!, { k: Number(url.searchParams.get('k')) });
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ topk: hits.map((h, i) => ({ text: h.text, score: h.score, pid: i })) }));
  });
  await new Promise<void>((resolve) => colbertServer.listen(0, '127.0.0.1', resolve));
  colbertUrl = `http://127.0.0.1:${(colbertServer.address() as { port: number }).port}`;
});

afterAll(async () => {
  if (colbertServer) await new Promise<void>((resolve) => colbertServer.close(() => resolve()));
  await db?.close();
});

afterEach(() => {
  configure({ rm: undefined });
});

async function retrievers(): Promise<[string, Retriever][]> {
  const embedder = new HashEmbedder(32);
  const inMemory = await EmbeddingsRetriever.fromCorpus(corpus, { embedder, store: new InMemoryVectorStore() });
  const pg = await EmbeddingsRetriever.fromCorpus(corpus, {
    embedder,
    store: await PgVectorStore.open({ dimensions: 32, pglite: db, table: `rm_${Date.now()}` }),
  });
  const bm25 = new BM25Retriever(corpus);
  return [
    ['BM25Retriever', bm25],
    ['EmbeddingsRetriever + InMemoryVectorStore', inMemory],
    ['EmbeddingsRetriever + PgVectorStore', pg],
    ['ColBERTv2', new ColBERTv2({ url: colbertUrl })],
    ['HybridRetriever', new HybridRetriever({ retrievers: [bm25, inMemory] })],
  ];
}

describe('retrievers inside core’s Retrieve module', () => {
  it('each one answers Retrieve through configure({ rm }) with k passages, best first', async () => {
    for (const [name, rm] of await retrievers()) {
      configure({ rm });
      const retrieve = new Retrieve({ k: 2 });
      const { passages } = await retrieve.call({ query: 'capital of Japan Tokyo' });
      expect(passages, name).toHaveLength(2);
      expect(passages[0], name).toBe('Tokyo is the capital of Japan.');
      const one = await retrieve.call({ query: 'Peru Lima' }, { k: 1 });
      expect(one.passages, name).toEqual(['Lima is the capital of Peru.']);
    }
  });

  it('passes Retrieve’s metadata filter through to the retrievers that support one', async () => {
    const all = await retrievers();
    for (const [name, rm] of all.filter(([n]) => n !== 'ColBERTv2')) {
      const { passages } = await context({ rm }, () =>
        new Retrieve({ k: 3 }).call({ query: 'capital' }, { filter: { region: 'europe' } }),
      );
      expect(new Set(passages), name).toEqual(
        new Set(['Paris is the capital of France.', 'Berlin is the capital of Germany.']),
      );
    }
  });
});

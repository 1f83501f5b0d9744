import { EventEmitter } from 'node:events';
import type { Embedder, ProgressEvent, RetrievedPassage, RetrieveOptions, Retriever } from '@dspy-ts/core';
import cliProgress from 'cli-progress';
import { type CorpusEntry, checkK, resolveCorpus } from './corpus.ts';
import { RetrievalError, throwIfAborted } from './errors.ts';
import { InMemoryVectorStore } from './in-memory-vector-store.ts';
import { normalizeInPlace, toFloat32 } from './vector-math.ts';
import type { VectorStore } from './vector-store.ts';

/** Options of {@link EmbeddingsRetriever}. */
export interface EmbeddingsRetrieverOptions {
  /** Turns passages and queries into vectors. */
  embedder: Embedder;
  /** Where the vectors live. Default: a new {@link InMemoryVectorStore} (exact search). */
  store?: VectorStore;
  /** Passages returned when a call gives no `k`. Default 5, as DSPy's `Embeddings`. */
  k?: number;
  /** Passages per embedder call and per store upsert while indexing. Default 200, as DSPy's `Embedder`. */
  batchSize?: number;
  /** L2-normalise every vector (corpus and queries) before storing or searching. Default true, as DSPy. */
  normalize?: boolean;
  /** Receives a `{ phase: 'embed', completed, total }` event after every indexed batch. */
  onProgress?: (event: ProgressEvent) => void;
  /** Draw a progress bar on stderr while indexing, when stderr is a terminal. Default false. */
  progressBar?: boolean;
}

/** Options of {@link EmbeddingsRetriever.index}. */
export interface EmbeddingsIndexOptions {
  /** Cancels indexing between batches; batches already stored stay stored. */
  signal?: AbortSignal;
  /** Receives progress events for this call, in addition to the constructor's callback and `progress` listeners. */
  onProgress?: (event: ProgressEvent) => void;
}

/** Events emitted by {@link EmbeddingsRetriever}. */
export interface EmbeddingsRetrieverEvents {
  /** After each indexed batch. */
  progress: [ProgressEvent];
}

/**
 * Dense retrieval (DSPy's `dspy.retrievers.Embeddings`): embeds a corpus in batches into a {@link VectorStore},
 * L2-normalised, and answers queries with the store's nearest neighbours. Indexing reports progress through the
 * `onProgress` callback, `progress` events and, optionally, a terminal progress bar. Each batch is upserted on its
 * own, so an interrupted indexing run keeps what it finished and re-running it (upserts are idempotent by id) resumes.
 *
 * With a persistent store (a {@link PgVectorStore} on disk or on a server), a retriever built on the reopened store
 * answers queries without indexing again.
 *
 * @example
 * ```ts
 * const retriever = new EmbeddingsRetriever({ embedder, store: await PgVectorStore.open({ dimensions: 384 }), k: 3 });
 * retriever.on('progress', (event) => console.log(`${event.completed}/${event.total}`));
 * await retriever.index(corpus);
 * configure({ rm: retriever });
 * ```
 */
export class EmbeddingsRetriever extends EventEmitter<EmbeddingsRetrieverEvents> implements Retriever {
  /** The embedder. */
  readonly embedder: Embedder;
  /** The vector store. */
  readonly store: VectorStore;
  /** Default number of passages per call. */
  readonly k: number;
  /** Passages per batch while indexing. */
  readonly batchSize: number;
  /** Whether vectors are L2-normalised. */
  readonly normalize: boolean;
  private readonly onProgress: ((event: ProgressEvent) => void) | undefined;
  private readonly progressBar: boolean;

  constructor(options: EmbeddingsRetrieverOptions) {
    super();
    if (typeof options?.embedder?.embed !== 'function') {
      throw new RetrievalError(
        'invalid_argument',
        'EmbeddingsRetriever: expected options.embedder to be an Embedder (an object with embed(texts)), found none.',
      );
    }
    this.embedder = options.embedder;
    this.store = options.store ?? new InMemoryVectorStore({ dimensions: options.embedder.dimensions });
    this.k = checkK(options.k ?? 5, 'EmbeddingsRetriever');
    this.batchSize = checkK(options.batchSize ?? 200, 'EmbeddingsRetriever (batchSize)');
    this.normalize = options.normalize ?? true;
    this.onProgress = options.onProgress;
    this.progressBar = options.progressBar ?? false;
  }

  /** Builds a retriever and indexes `corpus` into its store. */
  static async fromCorpus(
    corpus: readonly CorpusEntry[],
    options: EmbeddingsRetrieverOptions & { signal?: AbortSignal },
  ): Promise<EmbeddingsRetriever> {
    const retriever = new EmbeddingsRetriever(options);
    await retriever.index(corpus, { signal: options.signal });
    return retriever;
  }

  /**
   * Embeds `corpus` in batches of {@link EmbeddingsRetriever.batchSize} and upserts each batch into the store.
   * Entries without an id get their position in `corpus` as id. Returns the number of passages indexed.
   */
  async index(corpus: readonly CorpusEntry[], options: EmbeddingsIndexOptions = {}): Promise<number> {
    const passages = resolveCorpus(corpus, 'EmbeddingsRetriever.index');
    const total = passages.length;
    const bar =
      this.progressBar && process.stderr.isTTY
        ? new cliProgress.SingleBar(
            { stream: process.stderr, format: 'Embedding [{bar}] {value}/{total} passages | {eta_formatted} left' },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
    bar?.start(total, 0);
    try {
      for (let start = 0; start < total; start += this.batchSize) {
        throwIfAborted(options.signal, 'EmbeddingsRetriever.index');
        const batch = passages.slice(start, start + this.batchSize);
        const vectors = await this.embed(
          batch.map((passage) => passage.text),
          options.signal,
          (i) => `passage "${batch[i]!.id}"`,
        );
        await this.store.upsert(
          batch.map((passage, i) => ({
            id: passage.id,
            vector: vectors[i]!,
            text: passage.text,
            metadata: passage.metadata,
          })),
          { signal: options.signal },
        );
        const event: ProgressEvent = { phase: 'embed', completed: start + batch.length, total };
        bar?.update(event.completed);
        this.onProgress?.(event);
        options.onProgress?.(event);
        this.emit('progress', event);
      }
    } finally {
      bar?.stop();
    }
    return total;
  }

  /** The `k` passages nearest to `query`, best first, with the store's similarity as score. */
  async retrieve(query: string, options: RetrieveOptions = {}): Promise<RetrievedPassage[]> {
    throwIfAborted(options.signal, 'EmbeddingsRetriever.retrieve');
    if (typeof query !== 'string') {
      throw new RetrievalError(
        'invalid_argument',
        `EmbeddingsRetriever.retrieve: expected a string query, found ${typeof query}.`,
      );
    }
    const k = checkK(options.k ?? this.k, 'EmbeddingsRetriever.retrieve');
    const [vector] = await this.embed([query], options.signal, () => 'the query');
    const matches = await this.store.query(vector!, { k, filter: options.filter, signal: options.signal });
    return matches.map((match) => ({ text: match.text, score: match.score, id: match.id, metadata: match.metadata }));
  }

  /** Embeds texts, checking the count and dimensions of what the embedder returned and normalising. */
  private async embed(
    texts: string[],
    signal: AbortSignal | undefined,
    name: (i: number) => string,
  ): Promise<Float32Array[]> {
    const vectors = await this.embedder.embed(texts, { signal });
    if (!Array.isArray(vectors) || vectors.length !== texts.length) {
      throw new RetrievalError(
        'invalid_argument',
        `EmbeddingsRetriever: expected the embedder to return ${texts.length} vector(s), one per text, found ` +
          `${Array.isArray(vectors) ? vectors.length : typeof vectors}.`,
      );
    }
    const expected = this.store.dimensions ?? this.embedder.dimensions ?? vectors[0]?.length;
    return vectors.map((vector, i) => {
      const where = 'EmbeddingsRetriever';
      const what = `the embedding of ${name(i)}`;
      const copy = toFloat32(vector, expected, where, what);
      return this.normalize ? normalizeInPlace(copy, where, what) : copy;
    });
  }
}

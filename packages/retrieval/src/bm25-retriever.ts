import type { RetrievedPassage, RetrieveOptions, Retriever } from '@dspy-ts/core';
import MiniSearch from 'minisearch';
import { type CorpusEntry, checkK, type ResolvedPassage, resolveCorpus } from './corpus.ts';
import { RetrievalError, throwIfAborted } from './errors.ts';
import { matchesFilter } from './metadata-filter.ts';
import { TopK } from './top-k.ts';

/** Options of {@link BM25Retriever}. */
export interface BM25RetrieverOptions {
  /** Passages returned when a call gives no `k`. Default 10. */
  k?: number;
  /**
   * Term-frequency saturation (BM25's k1; MiniSearch's `bm25.k`). Default 0.9, the value DSPy's BM25 tutorial gives
   * `bm25s` (and Anserini's default).
   */
  k1?: number;
  /** Length normalisation (BM25's b; MiniSearch's `bm25.b`), from 0 (none) to 1 (full). Default 0.4, as above. */
  b?: number;
  /**
   * BM25+'s lower bound δ on a matching term's contribution (MiniSearch's `bm25.d`). Default 0: plain BM25. MiniSearch's
   * own default is 0.5.
   */
  delta?: number;
  /** Splits text into terms (indexing and queries). Default: MiniSearch's Unicode word splitter. */
  tokenize?: (text: string) => string[];
  /** Normalises one term; return a falsy value to drop it. Default: lower-case, then drop stop words. */
  processTerm?: (term: string) => string | null | undefined | false;
  /** Terms (lower-case) to leave out of the index and of queries; used by the default `processTerm`. */
  stopwords?: Iterable<string>;
}

/**
 * Okapi BM25 over an in-memory corpus, indexed with MiniSearch. Parameters map onto MiniSearch's BM25+ settings as
 * `k1 → bm25.k`, `b → bm25.b`, `delta → bm25.d`; with the default `delta = 0` the score of a passage is the plain BM25
 * sum over matching query terms, `Σ idf · tf·(k1+1) / (tf + k1·(1 − b + b·len/avgLen))`, with Lucene's IDF
 * `ln(1 + (N − n + 0.5) / (n + 0.5))`. Two MiniSearch choices remain and are worth knowing: `len` is a passage's number
 * of distinct terms (after lower-casing and stop-word removal), not its token count; and MiniSearch's multiplier, the
 * number of query terms matched, is divided out again so scores and ranking are BM25's (as in `bm25s`), not
 * MiniSearch's.
 *
 * @example
 * ```ts
 * const bm25 = new BM25Retriever(['Paris is the capital of France.', 'Berlin is in Germany.'], { k: 1 });
 * const [best] = await bm25.retrieve('capital of France');
 * configure({ rm: bm25 });
 * ```
 */
export class BM25Retriever implements Retriever {
  /** Default number of passages per call. */
  readonly k: number;
  private readonly passages: ResolvedPassage[] = [];
  private readonly ids = new Set<string>();
  private readonly index: MiniSearch<{ row: number; text: string }>;

  constructor(corpus: readonly CorpusEntry[], options: BM25RetrieverOptions = {}) {
    this.k = checkK(options.k ?? 10, 'BM25Retriever');
    const k1 = options.k1 ?? 0.9;
    const b = options.b ?? 0.4;
    const delta = options.delta ?? 0;
    if (!(k1 > 0) || !(b >= 0 && b <= 1) || !(delta >= 0)) {
      throw new RetrievalError(
        'invalid_argument',
        `BM25Retriever: expected k1 > 0, 0 ≤ b ≤ 1 and delta ≥ 0, found k1 = ${k1}, b = ${b}, delta = ${delta}.`,
      );
    }
    const stopwords = new Set(options.stopwords ?? []);
    const processTerm =
      options.processTerm ??
      ((term: string) => {
        const lower = term.toLowerCase();
        return stopwords.has(lower) ? null : lower;
      });
    const split: (text: string) => string[] = options.tokenize ?? MiniSearch.getDefault('tokenize');
    // Terms are normalised inside the tokenizer (not in MiniSearch's processTerm) so that the passage length MiniSearch
    // records, its number of distinct tokens, counts normalised terms and leaves out stop words.
    const tokenize = (text: string): string[] => {
      const terms: string[] = [];
      for (const token of split(text)) {
        const term = processTerm(token);
        if (term) terms.push(term);
      }
      return terms;
    };
    this.index = new MiniSearch({
      idField: 'row',
      fields: ['text'],
      storeFields: [],
      tokenize,
      processTerm: (term: string) => term,
      searchOptions: { bm25: { k: k1, b, d: delta }, tokenize, processTerm: (term: string) => term },
    });
    this.add(corpus, { requireNonEmpty: true });
  }

  /** Number of indexed passages. */
  get size(): number {
    return this.passages.length;
  }

  /**
   * Indexes more passages. Entries without an id are numbered after the ones already indexed; an id already in use is
   * rejected (nothing from the call is indexed then).
   */
  add(corpus: readonly CorpusEntry[], options: { requireNonEmpty?: boolean } = {}): void {
    const resolved = resolveCorpus(corpus, 'BM25Retriever', {
      offset: this.passages.length,
      requireNonEmpty: options.requireNonEmpty ?? false,
    });
    for (const passage of resolved) {
      if (this.ids.has(passage.id)) {
        throw new RetrievalError(
          'invalid_argument',
          `BM25Retriever: expected new passage ids, found id "${passage.id}" already indexed.`,
        );
      }
    }
    const first = this.passages.length;
    for (const passage of resolved) {
      this.ids.add(passage.id);
      this.passages.push(passage);
    }
    this.index.addAll(resolved.map((passage, i) => ({ row: first + i, text: passage.text })));
  }

  /** The `k` passages with the highest BM25 score for `query`, best first; passages matching no term are left out. */
  async retrieve(query: string, options: RetrieveOptions = {}): Promise<RetrievedPassage[]> {
    throwIfAborted(options.signal, 'BM25Retriever.retrieve');
    if (typeof query !== 'string') {
      throw new RetrievalError(
        'invalid_argument',
        `BM25Retriever.retrieve: expected a string query, found ${typeof query}.`,
      );
    }
    const k = checkK(options.k ?? this.k, 'BM25Retriever.retrieve');
    const filter = options.filter;
    const results = this.index.search(query, {
      ...(filter ? { filter: (result) => matchesFilter(this.passages[result.id as number]!.metadata, filter) } : {}),
    });
    // Keep the k best without sorting every match: a common term can match most of the corpus.
    const top = new TopK<number>(k);
    for (const result of results) {
      top.push(result.score / Math.max(1, result.queryTerms.length), result.id as number);
    }
    return top.sorted().map(({ score, item: row }) => {
      const passage = this.passages[row]!;
      return { text: passage.text, score, id: passage.id, metadata: { ...passage.metadata } };
    });
  }
}

import type { RetrievedPassage, RetrieveOptions, Retriever } from '@dspy-ts/core';
import { checkK } from './corpus.ts';
import { RetrievalError, throwIfAborted } from './errors.ts';

/** Options of {@link HybridRetriever}. */
export interface HybridRetrieverOptions {
  /** The retrievers whose rankings are fused (at least one). */
  retrievers: readonly Retriever[];
  /** Passages returned when a call gives no `k`. Default 5. */
  k?: number;
  /** RRF's rank constant: a passage at rank r contributes `weight / (rrfK + r)`. Default 60 (Cormack et al., 2009). */
  rrfK?: number;
  /** Passages asked of each retriever; never fewer than `k`. Default `2 × k`. */
  candidates?: number;
  /** One weight per retriever. Default 1 each. */
  weights?: readonly number[];
  /** Identifies the same passage across retrievers. Default: its text. */
  key?: (passage: RetrievedPassage) => string;
}

/**
 * Reciprocal-rank fusion of several retrievers (e.g. BM25 and embeddings): every retriever is asked for its top
 * candidates in parallel, and each passage scores `Σ weightᵢ / (rrfK + rankᵢ)` over the rankings it appears in
 * (ranks start at 1). Passages are matched across retrievers by text unless `key` says otherwise. The fused score
 * replaces the retrievers' scores, whose scales are not comparable; ties keep the order of first appearance.
 *
 * @example
 * ```ts
 * const hybrid = new HybridRetriever({ retrievers: [bm25, dense], k: 5 });
 * configure({ rm: hybrid });
 * ```
 */
export class HybridRetriever implements Retriever {
  /** The fused retrievers. */
  readonly retrievers: readonly Retriever[];
  /** Default number of passages per call. */
  readonly k: number;
  /** RRF's rank constant. */
  readonly rrfK: number;
  private readonly candidates: number | undefined;
  private readonly weights: readonly number[];
  private readonly key: (passage: RetrievedPassage) => string;

  constructor(options: HybridRetrieverOptions) {
    if (!Array.isArray(options?.retrievers) || options.retrievers.length === 0) {
      throw new RetrievalError(
        'invalid_argument',
        `HybridRetriever: expected at least one retriever, found ${Array.isArray(options?.retrievers) ? 0 : 'none'}.`,
      );
    }
    this.retrievers = [...options.retrievers];
    this.k = checkK(options.k ?? 5, 'HybridRetriever');
    this.rrfK = options.rrfK ?? 60;
    if (!(this.rrfK >= 0) || !Number.isFinite(this.rrfK)) {
      throw new RetrievalError(
        'invalid_argument',
        `HybridRetriever: expected rrfK ≥ 0, found ${String(options.rrfK)}.`,
      );
    }
    this.candidates =
      options.candidates === undefined ? undefined : checkK(options.candidates, 'HybridRetriever (candidates)');
    this.weights = options.weights ?? this.retrievers.map(() => 1);
    if (this.weights.length !== this.retrievers.length || this.weights.some((w) => !Number.isFinite(w) || w < 0)) {
      throw new RetrievalError(
        'invalid_argument',
        `HybridRetriever: expected ${this.retrievers.length} non-negative weight(s), one per retriever, found [${this.weights.join(', ')}].`,
      );
    }
    this.key = options.key ?? ((passage) => passage.text);
  }

  /** The `k` passages with the highest fused score, best first. */
  async retrieve(query: string, options: RetrieveOptions = {}): Promise<RetrievedPassage[]> {
    throwIfAborted(options.signal, 'HybridRetriever.retrieve');
    const k = checkK(options.k ?? this.k, 'HybridRetriever.retrieve');
    const candidates = Math.max(k, this.candidates ?? 2 * k);
    const rankings = await Promise.all(
      this.retrievers.map((retriever) =>
        retriever.retrieve(query, { k: candidates, signal: options.signal, filter: options.filter }),
      ),
    );
    const fused = new Map<string, { passage: RetrievedPassage; score: number; first: number }>();
    let order = 0;
    rankings.forEach((ranking, r) => {
      ranking.forEach((passage, i) => {
        const key = this.key(passage);
        const contribution = this.weights[r]! / (this.rrfK + i + 1);
        const entry = fused.get(key);
        if (entry) entry.score += contribution;
        else fused.set(key, { passage, score: contribution, first: order++ });
      });
    });
    return [...fused.values()]
      .sort((a, b) => b.score - a.score || a.first - b.first)
      .slice(0, k)
      .map(({ passage, score }) => ({ ...passage, score }));
  }
}

import { RetrievalError } from './errors.ts';

/** One passage of a corpus given to a retriever: its text, and optionally a stable id and metadata. */
export interface CorpusPassage {
  /** Stable identifier; defaults to the passage's position in the corpus (as a string). */
  id?: string;
  /** The passage text returned to callers (DSPy's `long_text`). */
  text: string;
  /** Metadata returned with the passage and matched by metadata filters. */
  metadata?: Record<string, unknown>;
}

/** A corpus entry: a bare string or a {@link CorpusPassage}. */
export type CorpusEntry = string | CorpusPassage;

/** A corpus passage with its id filled in. */
export interface ResolvedPassage {
  /** The passage's id. */
  id: string;
  /** The passage text. */
  text: string;
  /** The passage's metadata (an empty object when none was given). */
  metadata: Record<string, unknown>;
}

/**
 * Turns corpus entries into passages with ids, numbering entries without an id by position (`offset` onwards).
 * Throws a {@link RetrievalError} for an empty corpus when `requireNonEmpty`, for an entry without text, and for a
 * duplicated id.
 */
export function resolveCorpus(
  corpus: readonly CorpusEntry[],
  where: string,
  options: { offset?: number; requireNonEmpty?: boolean } = {},
): ResolvedPassage[] {
  if (!Array.isArray(corpus)) {
    throw new RetrievalError(
      'invalid_argument',
      `${where}: expected the corpus to be an array of strings or { id?, text, metadata? } objects, found ${describe(corpus)}.`,
    );
  }
  if (corpus.length === 0 && (options.requireNonEmpty ?? true)) {
    throw new RetrievalError(
      'empty_corpus',
      `${where}: expected a non-empty corpus, found 0 passages. Pass at least one passage to index.`,
    );
  }
  const offset = options.offset ?? 0;
  const seen = new Set<string>();
  return corpus.map((entry, index) => {
    const passage: CorpusPassage = typeof entry === 'string' ? { text: entry } : entry;
    if (passage === null || typeof passage !== 'object' || typeof passage.text !== 'string') {
      throw new RetrievalError(
        'invalid_argument',
        `${where}: expected corpus[${index}] to be a string or an object with a string "text", found ${describe(entry)}.`,
      );
    }
    const id = passage.id ?? String(offset + index);
    if (seen.has(id)) {
      throw new RetrievalError(
        'invalid_argument',
        `${where}: expected unique passage ids, found id "${id}" twice (second time at corpus[${index}]).`,
      );
    }
    seen.add(id);
    return { id, text: passage.text, metadata: passage.metadata ?? {} };
  });
}

/** A short description of a value's type for error messages (never the value itself, which may be large). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Checks that `k` is a positive integer. */
export function checkK(k: number, where: string): number {
  if (!Number.isInteger(k) || k < 1) {
    throw new RetrievalError('invalid_argument', `${where}: expected k to be a positive integer, found ${String(k)}.`);
  }
  return k;
}

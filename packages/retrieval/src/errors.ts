import { DspyError, type DspyErrorCode, type DspyErrorOptions } from '@dspy-ts/core';

const MARKER = Symbol.for('@dspy-ts/retrieval.error');

/** What went wrong in a retrieval, finer-grained than {@link DspyError.code}. */
export type RetrievalErrorKind =
  /** A vector's length differs from the store's or the embedder's dimension. */
  | 'dimension_mismatch'
  /** A retriever was given no passages to index. */
  | 'empty_corpus'
  /** Any other bad argument: a non-finite vector component, a zero vector under cosine, a bad `k`, a bad name. */
  | 'invalid_argument'
  /** The database or retrieval server could not be reached. */
  | 'connection'
  /** A retrieval server answered with an error or a reply of the wrong shape. */
  | 'server_response'
  /** The database rejected a read or write (the write was rolled back). */
  | 'storage';

const INPUT_KINDS: ReadonlySet<RetrievalErrorKind> = new Set([
  'dimension_mismatch',
  'empty_corpus',
  'invalid_argument',
]);

/**
 * A retriever or vector store failed. Bad input (`dimension_mismatch`, `empty_corpus`, `invalid_argument`) carries
 * the core code `invalid_argument`; failures of an external service (`connection`, `server_response`, `storage`)
 * carry `configuration`, because they are fixed by pointing at a working database or server. Switch on
 * {@link RetrievalError.kind} for the detail.
 *
 * @example
 * ```ts
 * try {
 *   await store.upsert(records);
 * } catch (error) {
 *   if (RetrievalError.isInstance(error) && error.kind === 'dimension_mismatch') console.error(error.message);
 * }
 * ```
 */
export class RetrievalError extends DspyError {
  /** What went wrong. */
  readonly kind: RetrievalErrorKind;
  /** Whether the same call may succeed later (a refused connection or a timeout may; bad input never does). */
  readonly isRetryable: boolean;

  constructor(kind: RetrievalErrorKind, message: string, options: DspyErrorOptions & { isRetryable?: boolean } = {}) {
    const code: DspyErrorCode = INPUT_KINDS.has(kind) ? 'invalid_argument' : 'configuration';
    super(code, message, options);
    Object.defineProperty(this, MARKER, { value: true });
    this.name = 'RetrievalError';
    this.kind = kind;
    this.isRetryable = options.isRetryable ?? kind === 'connection';
  }

  /** True when `error` is a {@link RetrievalError}, from any copy of the package. */
  static override isInstance(error: unknown): error is RetrievalError {
    return DspyError.isInstance(error) && (error as unknown as Record<symbol, unknown>)[MARKER] === true;
  }
}

/** Throws the signal's reason as a core `aborted` error when `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, where: string): void {
  if (signal?.aborted) {
    throw new DspyError('aborted', `${where} was aborted.`, { cause: signal.reason });
  }
}

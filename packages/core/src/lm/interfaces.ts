import type { LanguageModelV1 } from './spec.ts';

/** A passage returned by a {@link Retriever}. */
export interface RetrievedPassage {
  /** The passage text (DSPy's `long_text`). */
  text: string;
  /** Relevance score, higher is better, when the retriever computes one. */
  score?: number;
  /** Identifier of the passage in its store. */
  id?: string | number;
  /** Any other metadata stored with the passage. */
  metadata?: Record<string, unknown>;
}

/** Options for one retrieval. */
export interface RetrieveOptions {
  /** Number of passages to return. */
  k?: number;
  /** Cancels the retrieval. */
  signal?: AbortSignal;
  /** Metadata filter, for stores that support one. */
  filter?: Record<string, unknown>;
}

/** Anything that returns passages for a query: BM25, a vector store, ColBERTv2. */
export interface Retriever {
  /** Top passages for `query`, best first. */
  retrieve(query: string, options?: RetrieveOptions): Promise<RetrievedPassage[]>;
}

/** Turns texts into vectors. */
export interface Embedder {
  /** Length of every vector this embedder returns. `undefined` until known. */
  readonly dimensions?: number;
  /** One vector per text, in order. */
  embed(texts: readonly string[], options?: { signal?: AbortSignal }): Promise<Float32Array[]>;
}

/** One chat fine-tuning record, as OpenAI's fine-tuning API and DSPy's `format_finetune_data` produce them. */
export interface ChatFinetuneRecord {
  /** The conversation, ending with the assistant turn to learn. */
  messages: {
    /** Who wrote the turn. */
    role: 'system' | 'user' | 'assistant';
    /** The turn's text. */
    content: string;
  }[];
}

/** A progress event from a long-running job (fine-tuning, optimisation, embedding). */
export interface ProgressEvent {
  /** Short name of the phase, e.g. `warmup`, `train`, `bootstrap`. */
  phase: string;
  /** Units done so far. */
  completed: number;
  /** Units in the phase, when known. */
  total?: number;
  /** Extra numbers worth showing (loss, learning rate, score). */
  metrics?: Record<string, number>;
  /** Free-form human-readable detail. */
  message?: string;
}

/** Options for {@link Finetuner.finetune}. */
export interface FinetuneOptions {
  /** The LM being fine-tuned (its weights or its provider model id are the starting point). */
  baseLM?: LanguageModelV1;
  /** Method-specific settings (learning rate, epochs, method name…). */
  trainKwargs?: Record<string, unknown>;
  /** Receives progress events while the job runs. */
  onProgress?: (event: ProgressEvent) => void;
  /** Cancels the job. Work done so far is checkpointed where the implementation supports it. */
  signal?: AbortSignal;
}

/** Produces a new LM trained on chat records (used by `BootstrapFinetune`). */
export interface Finetuner {
  /** Train on `examples` and return the fine-tuned LM. */
  finetune(examples: readonly ChatFinetuneRecord[], options?: FinetuneOptions): Promise<LanguageModelV1>;
}

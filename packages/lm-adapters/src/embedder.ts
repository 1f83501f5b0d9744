import type { EmbeddingModelV3, EmbeddingModelV4 } from '@ai-sdk/provider';
import type { Embedder, LMError } from '@dspy-ts/core';
import { embedMany } from 'ai';
import { getDefaultCache, type LMCache } from './lm-cache.ts';
import { toLMError } from './map-error.ts';
import { type AISDKProvider, loadProviderRegistry, parseModelString } from './provider-registry.ts';
import { type RetryOptions, withRetries } from './retry.ts';

/** An AI SDK embedding model of specification V4 or V3. */
export type AISDKEmbeddingModel = EmbeddingModelV4 | EmbeddingModelV3;

/** Options of {@link embedder}. */
export interface EmbedderOptions {
  /** Texts per provider call. Default: the model's `maxEmbeddingsPerCall`, else 200 (DSPy's `batch_size`). */
  batchSize?: number;
  /** Batches in flight at once. Default 4. */
  maxParallelCalls?: number;
  /** Retries of retryable failures per batch. Default 3. */
  numRetries?: number;
  /** Backoff settings. */
  retry?: Omit<RetryOptions, 'numRetries'>;
  /** Time limit per batch attempt in ms. Default 600,000. */
  timeoutMs?: number;
  /** Provider options passed to every call. */
  providerOptions?: Record<string, Record<string, unknown>>;
  /** Providers by name, for `provider/model` strings (see `lm`). */
  providers?: Readonly<Record<string, AISDKProvider>>;
  /** Called before each retry. */
  onRetry?: (error: LMError, attempt: number, delayMs: number) => void;
  /**
   * Vector cache, as for LMs: `true` (default) uses the process-wide default cache (`getDefaultCache`), `false` turns
   * caching off for this embedder, or pass an {@link LMCache}. Each text is its own entry, keyed by the SHA-256 of the
   * model id, the text and the provider options (never keys or endpoints); only texts without an entry are sent.
   */
  cache?: boolean | LMCache;
}

/** An {@link Embedder} backed by an AI SDK embedding model. Create one with {@link embedder}. */
export class AISDKEmbedder implements Embedder {
  /** Vector length, known after the first call. */
  dimensions: number | undefined;
  /** Model id, e.g. `openai/text-embedding-3-small`. */
  readonly modelId: string;
  private readonly load: () => Promise<AISDKEmbeddingModel>;
  private readonly options: EmbedderOptions;

  /** Prefer {@link embedder}. */
  constructor(modelId: string, load: () => Promise<AISDKEmbeddingModel>, options: EmbedderOptions) {
    this.modelId = modelId;
    this.load = load;
    this.options = options;
  }

  /** The cache this embedder uses, or `undefined` when caching is off for it. */
  get cache(): LMCache | undefined {
    const setting = this.options.cache ?? true;
    if (setting === false) return undefined;
    return setting === true ? getDefaultCache() : setting;
  }

  /**
   * One vector per text, in order. Cached texts are served from the cache; the others (each distinct text once) are
   * sent in batches, `maxParallelCalls` at a time, each batch retried on its own, and then cached.
   */
  async embed(texts: readonly string[], options: { signal?: AbortSignal } = {}): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const cache = this.cache;
    if (!cache?.enabled) {
      const vectors = await this.embedAll(texts, options.signal);
      if (vectors[0]) this.dimensions = vectors[0].length;
      return vectors;
    }
    const providerOptions = this.options.providerOptions;
    const vectors: (Float32Array | undefined)[] = new Array(texts.length);
    // Texts to send, each once, with the positions it fills and its cache key.
    const missing = new Map<string, { key: string; positions: number[] }>();
    for (const [index, text] of texts.entries()) {
      const pending = missing.get(text);
      if (pending) {
        pending.positions.push(index);
        continue;
      }
      const key = cache.keyForEmbedding(this.modelId, text, providerOptions);
      const hit = cache.getEmbedding(key);
      if (hit) vectors[index] = hit;
      else missing.set(text, { key, positions: [index] });
    }
    if (missing.size > 0) {
      const fresh = await this.embedAll([...missing.keys()], options.signal);
      let next = 0;
      for (const { key, positions } of missing.values()) {
        const vector = fresh[next++] as Float32Array;
        cache.setEmbedding(key, vector);
        for (const [n, position] of positions.entries()) vectors[position] = n === 0 ? vector : vector.slice();
      }
    }
    const result = vectors as Float32Array[];
    if (result[0]) this.dimensions = result[0].length;
    return result;
  }

  /** Embeds every text (no cache), in batches, `maxParallelCalls` batches at a time. */
  private async embedAll(texts: readonly string[], signal: AbortSignal | undefined): Promise<Float32Array[]> {
    const model = await this.load();
    const perCall = await model.maxEmbeddingsPerCall;
    const batchSize = Math.max(
      1,
      Math.min(this.options.batchSize ?? perCall ?? 200, perCall ?? Number.POSITIVE_INFINITY),
    );
    const batches: string[][] = [];
    for (let i = 0; i < texts.length; i += batchSize) batches.push(texts.slice(i, i + batchSize));
    const results: Float32Array[][] = new Array(batches.length);
    let next = 0;
    const worker = async () => {
      while (next < batches.length) {
        const index = next++;
        results[index] = await withRetries(() => this.embedBatch(model, batches[index] as string[], signal), {
          ...this.options.retry,
          ...(this.options.numRetries === undefined ? {} : { numRetries: this.options.numRetries }),
          signal,
          onRetry: this.options.onRetry,
          toError: (error) => toLMError(error, { modelId: this.modelId, aborted: signal?.aborted === true }),
        });
      }
    };
    const workers = Math.max(1, Math.min(this.options.maxParallelCalls ?? 4, batches.length));
    await Promise.all(Array.from({ length: workers }, worker));
    return results.flat();
  }

  private async embedBatch(
    model: AISDKEmbeddingModel,
    values: string[],
    signal: AbortSignal | undefined,
  ): Promise<Float32Array[]> {
    const timeoutMs = this.options.timeoutMs ?? 600_000;
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), timeoutMs);
    try {
      const result = await embedMany({
        model,
        values,
        maxRetries: 0,
        maxParallelCalls: 1,
        abortSignal: signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal,
        ...(this.options.providerOptions ? { providerOptions: this.options.providerOptions as never } : {}),
      });
      return result.embeddings.map((embedding) => Float32Array.from(embedding));
    } catch (error) {
      throw toLMError(error, {
        modelId: this.modelId,
        aborted: signal?.aborted === true,
        timedOut: timeout.signal.aborted,
        timeoutMs,
      });
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Wraps an AI SDK embedding model (or a `"provider/model"` string, resolved like `lm`) as core's {@link Embedder}.
 *
 * @example
 * ```ts
 * const embed = embedder('openai/text-embedding-3-small', { batchSize: 100, maxParallelCalls: 4 });
 * const [vector] = await embed.embed(['hello']);
 * ```
 */
export function embedder(model: AISDKEmbeddingModel | string, options: EmbedderOptions = {}): AISDKEmbedder {
  if (typeof model === 'string') {
    const { provider, model: name } = parseModelString(model);
    let pending: Promise<AISDKEmbeddingModel> | undefined;
    const load = () => {
      pending ??= loadProviderRegistry(options.providers?.[provider] ? [] : [provider], options.providers).then(
        (registry) => registry.embeddingModel(`${provider}:${name}` as never),
      );
      pending.catch(() => {
        pending = undefined;
      });
      return pending;
    };
    return new AISDKEmbedder(`${provider}/${name}`, load, options);
  }
  const loaded = Promise.resolve(model);
  return new AISDKEmbedder(`${model.provider.split('.')[0]}/${model.modelId}`, () => loaded, options);
}

/**
 * The LLaMA-architecture inference runtime: a forward pass with a KV cache over any {@link KernelBackend},
 * text generation (greedy or seeded sampling with top-p and stop sequences) and continuation scoring.
 *
 * @module
 */

import { DspyError } from '@dspy-ts/core';
import type { KernelBackend } from '../kernels/backend.ts';
import { mulberry32 } from '../kernels/reference/random.ts';
import { createReferenceBackend } from '../kernels/reference/reference-backend.ts';
import { type BackendPreference, type SelectBackendOptions, selectBackend } from '../kernels/select-backend.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import { DirectForward } from './direct-forward.ts';
import { assertWeightsMatch, headDim, kvDim, type LlamaConfig, type LlamaWeights } from './llama-config.ts';
import { logSoftmax, sampleToken } from './sampling.ts';

/** Keys and values of every layer for positions `0 … length-1` of one sequence. */
export class KvCache {
  /** Per layer, `[seqLen, kvDim]`. */
  readonly keys: Float32Array[];
  /** Per layer, `[seqLen, kvDim]`. */
  readonly values: Float32Array[];
  /** Number of positions currently filled. */
  length = 0;

  /** Allocates an empty cache for `config.seqLen` positions. */
  constructor(config: LlamaConfig) {
    const size = config.seqLen * kvDim(config);
    this.keys = Array.from({ length: config.nLayers }, () => new Float32Array(size));
    this.values = Array.from({ length: config.nLayers }, () => new Float32Array(size));
  }
}

/** Options of {@link LlamaModel.forward}. */
export interface ForwardOptions {
  /** Cache to read earlier positions from and append to (default: the model's own cache). */
  cache?: KvCache;
  /** `all` (default) returns `[T, vocabSize]` logits; `last` only the final position's `[vocabSize]`. */
  logits?: 'all' | 'last';
}

/** Options of {@link LlamaModel.generate}. */
export interface GenerateOptions {
  /** Most tokens to generate (default: until the context is full). */
  maxNewTokens?: number;
  /** 0 (default) = greedy; otherwise sampling temperature. */
  temperature?: number;
  /** Nucleus sampling mass (default 1 = off). */
  topP?: number;
  /** Seed of the sampling RNG (default 0); the same seed gives the same text. */
  seed?: number;
  /** Text sequences that end generation; the returned text stops before the first one. */
  stop?: readonly string[];
  /** Token ids that end generation (default: BOS and EOS; BOS separates stories in llama2.c models). */
  stopTokens?: readonly number[];
  /** Cancels generation between tokens. */
  signal?: AbortSignal;
}

/** Result of {@link LlamaModel.generate}. */
export interface GenerateResult {
  /** The generated text (without the prompt, the stop sequence or the end token). */
  text: string;
  /** Generated token ids, excluding a final end token; may extend past a matched stop sequence's start. */
  tokens: number[];
  /** Prompt token ids fed to the model (BOS included). */
  promptTokens: number[];
  /** `stop` for an end token or stop sequence, `length` for maxNewTokens or a full context. */
  finishReason: 'stop' | 'length';
}

/**
 * Where {@link LlamaModel.forward} computes:
 * - `auto` (default): single-token steps (decoding) run as direct, allocation-free loops that equal the reference
 *   backend bit for bit; multi-token passes (prompts, scoring) run on the backend's kernels, except with the
 *   reference backend, whose numerics the direct loops reproduce faster, so they run there too.
 * - `backend`: every pass runs on the backend's kernels (to exercise or profile a backend end to end).
 */
export type InferencePath = 'auto' | 'backend';

/** Everything needed to build a {@link LlamaModel}. */
export interface LlamaModelInit {
  /** Hyper-parameters. */
  config: LlamaConfig;
  /** Weights matching `config`. */
  weights: LlamaWeights;
  /** Tokenizer for text prompts. */
  tokenizer: Tokenizer;
  /**
   * Kernels: a backend instance, or `'reference'` (the default). Other preferences (`'auto'`, `'wasm'`,
   * `'gpujs'`) are created asynchronously: use {@link LlamaModel.create} or the loaders for them.
   */
  backend?: KernelBackend | 'reference';
  /** Where forward passes compute (default `auto`); see {@link InferencePath}. */
  inference?: InferencePath;
  /** Short name used in model ids, e.g. `stories260K`. */
  name?: string;
}

/** Options of {@link LlamaModel.create}: like {@link LlamaModelInit}, with any backend preference. */
export interface LlamaModelCreateInit extends Omit<LlamaModelInit, 'backend'> {
  /** Kernels: `'auto'`, a backend name or instance (default `'reference'`); see {@link selectBackend}. */
  backend?: BackendPreference;
  /** Options for creating the backend (wasm threads, gpujs mode, a fallback callback). */
  backendOptions?: SelectBackendOptions;
}

/**
 * A LLaMA-architecture model ready for inference.
 *
 * @example
 * ```ts
 * const model = await loadLlama2c({ checkpoint: 'stories260K.bin', tokenizer: 'tok512.bin' });
 * const { text } = model.generate('Once upon a time', { maxNewTokens: 50 });
 * const [yes, no] = model.score('Is the sky blue? Answer:', [' yes', ' no']);
 * ```
 */
export class LlamaModel {
  /** Hyper-parameters. */
  readonly config: LlamaConfig;
  /** Weights (mutable in place by trainers). */
  readonly weights: LlamaWeights;
  /** Tokenizer. */
  readonly tokenizer: Tokenizer;
  /** Kernels used by {@link LlamaModel.forward}. */
  backend: KernelBackend;
  /** Where forward passes compute; see {@link InferencePath}. */
  inference: InferencePath;
  /** Short name, e.g. `stories260K`. */
  readonly name: string;
  /** The cache used by {@link LlamaModel.forward} when none is passed. */
  readonly cache: KvCache;
  /** The backend this model created from a name (and disposes), if any. */
  #ownedBackend: KernelBackend | undefined;
  #direct: DirectForward | undefined;
  #stepLogits: Float32Array | undefined;

  /**
   * Builds a model whose backend is given by any {@link BackendPreference} (`'auto'` picks the wasm backend in
   * Node when it loads). A backend created from a name belongs to the model: {@link LlamaModel.dispose}
   * releases it.
   *
   * @example
   * ```ts
   * const model = await LlamaModel.create({ config, weights, tokenizer, backend: 'auto' });
   * model.backend.name; // 'wasm' in Node, else 'reference'
   * await model.dispose();
   * ```
   */
  static async create(init: LlamaModelCreateInit): Promise<LlamaModel> {
    const { backend: preference = 'reference', backendOptions, ...rest } = init;
    const backend = await selectBackend(preference, backendOptions);
    const owned = typeof preference === 'string';
    try {
      const model = new LlamaModel({ ...rest, backend });
      if (owned) model.#ownedBackend = backend;
      return model;
    } catch (error) {
      if (owned) await backend.dispose?.();
      throw error;
    }
  }

  /** Validates that the weights match the configuration. */
  constructor(init: LlamaModelInit) {
    assertWeightsMatch(init.config, init.weights);
    if (init.tokenizer.vocabSize > init.config.vocabSize) {
      throw new DspyError(
        'invalid_argument',
        `The tokenizer has ${init.tokenizer.vocabSize} tokens but the model only ${init.config.vocabSize}.`,
      );
    }
    this.config = init.config;
    this.weights = init.weights;
    this.tokenizer = init.tokenizer;
    const backend = init.backend ?? 'reference';
    if (typeof backend === 'string' && backend !== 'reference') {
      throw new DspyError(
        'invalid_argument',
        `The '${backend}' backend is created asynchronously; use 'await LlamaModel.create({ backend: ` +
          `'${backend}', … })' (or a loader's backend option), or pass a backend instance.`,
      );
    }
    this.backend = typeof backend === 'string' ? createReferenceBackend() : backend;
    this.inference = init.inference ?? 'auto';
    if (this.inference !== 'auto' && this.inference !== 'backend') {
      throw new DspyError('invalid_argument', `inference must be 'auto' or 'backend', got '${this.inference}'.`);
    }
    this.name = init.name ?? 'llama';
    this.cache = new KvCache(init.config);
  }

  /** Releases the backend if this model created it from a name (see {@link LlamaModel.create}). */
  async dispose(): Promise<void> {
    const owned = this.#ownedBackend;
    this.#ownedBackend = undefined;
    await owned?.dispose?.();
  }

  /** A fresh, empty KV cache for this model. */
  createCache(): KvCache {
    return new KvCache(this.config);
  }

  /**
   * Runs `tokens` at positions `pos … pos+T-1`, reading positions `< pos` from the cache and writing the new
   * keys and values into it (positions ≥ pos are overwritten, so rewinding `pos` is allowed). Returns logits.
   */
  forward(tokens: ArrayLike<number>, pos: number, options: ForwardOptions = {}): Float32Array {
    const cache = options.cache ?? this.cache;
    const T = tokens.length;
    this.#checkRange(T, pos, cache);
    if (this.inference === 'auto' && (T === 1 || this.backend.name === 'reference')) {
      const V = this.config.vocabSize;
      const rows = options.logits === 'last' ? 1 : T;
      const out = new Float32Array(rows * V);
      const direct = this.#directForward();
      // Validate every id before the first cache write, so a bad token leaves the cache untouched.
      for (let t = 0; t < T; t++) {
        const token = tokens[t]!;
        if (!Number.isInteger(token) || token < 0 || token >= V) {
          throw new DspyError('invalid_argument', `Token id ${token} is outside the vocabulary [0, ${V}).`);
        }
      }
      for (let t = 0; t < T; t++) {
        const row = t - (T - rows);
        // Only the rows the caller asked for need the final norm and classifier.
        direct.step(tokens[t]!, pos + t, cache, row >= 0 ? out.subarray(row * V, (row + 1) * V) : null);
        cache.length = pos + t + 1;
      }
      return out;
    }
    return this.#backendForward(tokens, pos, cache, options.logits ?? 'all');
  }

  /**
   * One decoding step for {@link LlamaModel.generate}: like `forward([token], pos, { cache, logits: 'last' })`,
   * but the returned logits live in a buffer that the next step overwrites.
   */
  #decodeStep(token: number, pos: number, cache: KvCache): Float32Array {
    if (this.inference !== 'auto') return this.forward([token], pos, { cache, logits: 'last' });
    this.#checkRange(1, pos, cache);
    this.#stepLogits ??= new Float32Array(this.config.vocabSize);
    this.#directForward().step(token, pos, cache, this.#stepLogits);
    cache.length = pos + 1;
    return this.#stepLogits;
  }

  #directForward(): DirectForward {
    this.#direct ??= new DirectForward(this.config, this.weights);
    return this.#direct;
  }

  #checkRange(T: number, pos: number, cache: KvCache): void {
    if (T === 0) throw new DspyError('invalid_argument', 'forward() needs at least one token.');
    if (!Number.isInteger(pos) || pos < 0 || pos > cache.length) {
      throw new DspyError(
        'invalid_argument',
        `forward() at pos ${pos}, but the cache only holds ${cache.length} positions.`,
      );
    }
    if (pos + T > this.config.seqLen) {
      throw new DspyError(
        'invalid_argument',
        `Sequence of ${pos + T} tokens exceeds the context length ${this.config.seqLen}.`,
      );
    }
  }

  /** The forward pass on the backend's kernels, all T positions at once. */
  #backendForward(tokens: ArrayLike<number>, pos: number, cache: KvCache, logits: 'all' | 'last'): Float32Array {
    const { dim, hiddenDim, nHeads, nKvHeads, vocabSize, normEps } = this.config;
    const T = tokens.length;
    const b = this.backend;
    const hs = headDim(this.config);
    const kv = kvDim(this.config);
    const S = pos + T;
    const rope = { layout: this.config.ropeLayout, base: this.config.ropeBase };
    const x = new Float32Array(T * dim);
    for (let t = 0; t < T; t++) {
      const token = tokens[t]!;
      if (!Number.isInteger(token) || token < 0 || token >= vocabSize) {
        throw new DspyError('invalid_argument', `Token id ${token} is outside the vocabulary [0, ${vocabSize}).`);
      }
      x.set(this.weights.tokenEmbedding.subarray(token * dim, (token + 1) * dim), t * dim);
    }
    this.weights.layers.forEach((layer, l) => {
      const xb = b.rmsnormForward(x, layer.attnNorm, T, dim, normEps).y;
      const q = b.matmul(xb, layer.wq, T, dim, dim, { transB: true });
      const k = b.matmul(xb, layer.wk, T, dim, kv, { transB: true });
      const v = b.matmul(xb, layer.wv, T, dim, kv, { transB: true });
      b.rope(q, T, nHeads, hs, pos, rope);
      b.rope(k, T, nKvHeads, hs, pos, rope);
      cache.keys[l]!.set(k, pos * kv);
      cache.values[l]!.set(v, pos * kv);
      const att = b.attentionForward(
        q,
        cache.keys[l]!.subarray(0, S * kv),
        cache.values[l]!.subarray(0, S * kv),
        T,
        S,
        nHeads,
        nKvHeads,
        hs,
      ).out;
      b.matmul(att, layer.wo, T, dim, dim, { transB: true, out: x, accumulate: true });
      const xf = b.rmsnormForward(x, layer.ffnNorm, T, dim, normEps).y;
      const gate = b.matmul(xf, layer.w1, T, dim, hiddenDim, { transB: true });
      const up = b.matmul(xf, layer.w3, T, dim, hiddenDim, { transB: true });
      b.matmul(b.swigluForward(gate, up), layer.w2, T, hiddenDim, dim, { transB: true, out: x, accumulate: true });
    });
    cache.length = S;
    const rows = logits === 'last' ? x.subarray((T - 1) * dim) : x;
    const R = rows.length / dim;
    const normed = b.rmsnormForward(rows, this.weights.finalNorm, R, dim, normEps).y;
    return b.matmul(normed, this.weights.classifier, R, dim, vocabSize, { transB: true });
  }

  /** Encodes a text prompt (BOS first) or validates a token prompt. */
  encodePrompt(prompt: string | readonly number[]): number[] {
    const tokens = typeof prompt === 'string' ? this.tokenizer.encode(prompt, { bos: true }) : [...prompt];
    if (tokens.length === 0) throw new DspyError('invalid_argument', 'The prompt must contain at least one token.');
    if (tokens.length >= this.config.seqLen) {
      throw new DspyError(
        'invalid_argument',
        `The prompt has ${tokens.length} tokens; the context length is ${this.config.seqLen}.`,
      );
    }
    return tokens;
  }

  /**
   * Generates a continuation of `prompt` (text, encoded with BOS, or token ids). Greedy at temperature 0,
   * otherwise sampled from a `mulberry32(seed)` stream, so a seed reproduces its text.
   */
  generate(prompt: string | readonly number[], options: GenerateOptions = {}): GenerateResult {
    const promptTokens = this.encodePrompt(prompt);
    const { temperature = 0, topP = 1, seed = 0, stop = [], signal } = options;
    const stopTokens = new Set(options.stopTokens ?? [this.tokenizer.bosId, this.tokenizer.eosId]);
    const maxNew = Math.min(options.maxNewTokens ?? Number.POSITIVE_INFINITY, this.config.seqLen - promptTokens.length);
    const rng = mulberry32(seed);
    const cache = this.createCache();
    const tokens: number[] = [];
    // Streaming decode: a multi-byte character split across tokens is held back until it is complete.
    const decoder = new TextDecoder('utf-8');
    const longestStop = stop.reduce((n, s) => Math.max(n, s.length), 0);
    const sampling = { temperature, topP, rng };
    let text = '';
    let finishReason: GenerateResult['finishReason'] = 'length';
    let logits = this.forward(promptTokens, 0, { cache, logits: 'last' });
    let prev = promptTokens[promptTokens.length - 1]!;
    while (tokens.length < maxNew) {
      signal?.throwIfAborted();
      const next = sampleToken(logits, sampling);
      if (stopTokens.has(next)) {
        finishReason = 'stop';
        break;
      }
      tokens.push(next);
      // A stop string may span tokens, so it can start up to longestStop - 1 characters before the new text.
      const from = Math.max(0, text.length - longestStop + 1);
      text += decoder.decode(this.tokenizer.tokenBytes(next, prev), { stream: true });
      prev = next;
      if (longestStop > 0) {
        const cut = earliestStop(text, stop, from);
        if (cut >= 0) return { text: text.slice(0, cut), tokens, promptTokens, finishReason: 'stop' };
      }
      if (tokens.length >= maxNew) break;
      logits = this.#decodeStep(next, promptTokens.length + tokens.length - 1, cache);
    }
    text += decoder.decode();
    return { text, tokens, promptTokens, finishReason };
  }

  /**
   * Sum of log-probabilities of each continuation given `prompt` (natural log). Continuation tokens are the
   * tokens the joint text `prompt + continuation` adds after the prompt's own encoding, so merges across the
   * boundary are respected; if the joint encoding does not start with the prompt's tokens, the continuation is
   * encoded on its own without the dummy-prefix space. The prompt is run once and its cache reused.
   */
  score(prompt: string | readonly number[], continuations: readonly string[]): number[] {
    const promptTokens = this.encodePrompt(prompt);
    const cache = this.createCache();
    const promptLogits = this.forward(promptTokens, 0, { cache, logits: 'last' });
    const promptLength = promptTokens.length;
    return continuations.map((continuation) => {
      const tokens = this.continuationTokens(prompt, promptTokens, continuation);
      if (tokens.length === 0) return 0;
      if (promptLength + tokens.length > this.config.seqLen) {
        throw new DspyError(
          'invalid_argument',
          `Prompt plus continuation exceed the context length ${this.config.seqLen}.`,
        );
      }
      let total = logSoftmax(promptLogits)[tokens[0]!]!;
      if (tokens.length > 1) {
        // Rewinding to the prompt's end overwrites the previous continuation's cache entries.
        const logits = this.forward(tokens.slice(0, -1), promptLength, { cache });
        const V = this.config.vocabSize;
        for (let i = 1; i < tokens.length; i++) total += logSoftmax(logits.subarray((i - 1) * V, i * V))[tokens[i]!]!;
      }
      return total;
    });
  }

  private continuationTokens(
    prompt: string | readonly number[],
    promptTokens: number[],
    continuation: string,
  ): number[] {
    if (continuation.length === 0) return [];
    if (typeof prompt === 'string') {
      const joint = this.tokenizer.encode(prompt + continuation, { bos: true });
      if (promptTokens.every((t, i) => joint[i] === t) && joint.length > promptTokens.length) {
        return joint.slice(promptTokens.length);
      }
    }
    return this.tokenizer.encode(continuation, { bos: false, dummyPrefix: false });
  }
}

/** Index of the earliest occurrence of any non-empty stop string at or after `from`, or -1. */
function earliestStop(text: string, stops: readonly string[], from: number): number {
  let cut = -1;
  for (const s of stops) {
    if (s.length === 0) continue;
    const i = text.indexOf(s, from);
    if (i >= 0 && (cut < 0 || i < cut)) cut = i;
  }
  return cut;
}

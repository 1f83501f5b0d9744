/**
 * The bridge from any Vercel AI SDK language model to dspy-ts's `LanguageModelV1`.
 *
 * Calls go straight to the model's own specification methods (`doGenerate` / `doStream`): core's request is converted
 * into LanguageModelV4 call options here (`convert-prompt.ts`, `convert-request.ts`) and the result back
 * (`convert-response.ts`). The AI SDK's `generateText` / `streamText` are not used: their step loop, prompt validation,
 * tool execution machinery and result objects cost more client CPU per request than the provider's own HTTP and JSON
 * work (see `bench/lm-adapters/RESULTS.md`), and none of it is needed for one model call whose tools the caller
 * executes. What they did that matters is done here, with the same results on the wire: image URLs the model does not
 * accept are downloaded (with the SDK's guarded downloader), JSON delivered out of band (`structuredOutputText`) is
 * returned as the text, tool-call arguments are parsed, a response that ignores a required tool choice fails, warnings
 * are reported, and V3 models are adapted to V4 with the SDK's own adapter (`wrapLanguageModel` without middleware).
 * Retries are only the ones here (backoff with jitter, `Retry-After`, only retryable failures).
 *
 * @module
 */
import type {
  LanguageModelV3,
  LanguageModelV4,
  LanguageModelV4FinishReason,
  LanguageModelV4Prompt,
} from '@ai-sdk/provider';
import {
  addUsage,
  type LanguageModelV1,
  type LMChoice,
  type LMError,
  type LMRequest,
  type LMResponse,
  type LMStreamPart,
  type LMUsage,
  type ToolCall,
} from '@dspy-ts/core';
import { wrapLanguageModel } from 'ai';
import { requestIdentity } from './canonical-request.ts';
import { downloadImages, hasRemoteImages, imagesToDownload, toV4Prompt } from './convert-prompt.ts';
import { dspyCallOptions, estimateTokens, toCallOptions } from './convert-request.ts';
import {
  checkToolChoice,
  choiceFromContent,
  reportWarnings,
  toChoice,
  toFinishReason,
  toToolCall,
  toUsage,
} from './convert-response.ts';
import { getDefaultCache, type LMCache } from './lm-cache.ts';
import { toLMError } from './map-error.ts';
import { type PricingTable, withCost } from './pricing.ts';
import { RateLimiter, type RateLimitOptions } from './rate-limiter.ts';
import {
  type ResolvedRetryOptions,
  type RetryOptions,
  resolveRetryOptions,
  retryDelay,
  sleep,
  withRetries,
} from './retry.ts';

/** An AI SDK language model of specification V4 (current) or V3. */
export type AISDKLanguageModel = LanguageModelV4 | LanguageModelV3;

/** Request options an LM applies to every call unless the call overrides them. */
export type LMDefaults = Partial<Omit<LMRequest, 'messages' | 'signal'>>;

/** Client settings of an AI SDK-backed LM (everything that is not a request default). */
export interface AISDKClientOptions {
  /** The id dspy-ts reports (history, usage, pricing). Default: `<provider>/<modelId>`, e.g. `openai/gpt-4o-mini`. */
  modelId?: string;
  /**
   * Response cache: `true` (default) uses the process-wide default cache ({@link getDefaultCache}), `false` turns
   * caching off for this LM, or pass an {@link LMCache}. Per call, `providerOptions: { dspy: { cache: false } }`
   * bypasses it.
   */
  cache?: boolean | LMCache;
  /** Retries of retryable failures after the first attempt. Default 3 (4 attempts), as in DSPy. */
  numRetries?: number;
  /** Backoff settings (initial and maximum delay). */
  retry?: Omit<RetryOptions, 'numRetries'>;
  /** Time limit per attempt in ms; for streams, the longest silence between two parts. Default 600,000. */
  timeoutMs?: number;
  /**
   * Concurrency and per-minute limits, shared by this LM and every `withDefaults` copy. Pass one {@link RateLimiter}
   * to several LMs to share it between them.
   */
  rateLimit?: RateLimitOptions | RateLimiter;
  /** Price overrides in USD per million tokens, keyed by model id (`'my-model'` or `'openai/gpt-4o-mini'`). */
  pricing?: PricingTable;
  /** Overrides the capabilities advertised to adapters. */
  capabilities?: LanguageModelV1['capabilities'];
  /** Called before each retry (logging, metrics). */
  onRetry?: (error: LMError, attempt: number, delayMs: number) => void;
}

/** Options of {@link fromAISDK}: request defaults (`temperature`, `maxTokens`, …) and client settings side by side. */
export type FromAISDKOptions = LMDefaults & AISDKClientOptions;

const CLIENT_OPTION_KEYS = new Set<string>([
  'modelId',
  'cache',
  'numRetries',
  'retry',
  'timeoutMs',
  'rateLimit',
  'pricing',
  'capabilities',
  'onRetry',
]);

/**
 * State shared by an LM and all its `withDefaults` copies (model, cache, retry policy, limiter, prices).
 *
 * @internal
 */
export interface SharedState {
  /** Resolves the AI SDK model (memoised by the creator; `lm()` imports the provider package on first use). */
  readonly loadModel: () => Promise<AISDKLanguageModel>;
  /** The model once known, for synchronous accessors. */
  model: AISDKLanguageModel | undefined;
  readonly modelId: string;
  readonly cache: boolean | LMCache;
  readonly retry: ResolvedRetryOptions;
  readonly timeoutMs: number;
  readonly limiter: RateLimiter;
  readonly pricing: PricingTable | undefined;
  readonly capabilities: NonNullable<LanguageModelV1['capabilities']>;
  readonly onRetry: AISDKClientOptions['onRetry'];
}

function definedEntries<T extends object>(value: T): Partial<T> {
  return assignDefined({}, value) as Partial<T>;
}

/** Copies the members of `source` that are neither `undefined` nor `null` onto `target` (a loop: this runs per call). */
function assignDefined(target: Record<string, unknown>, source: object): Record<string, unknown> {
  for (const key in source) {
    if (!Object.hasOwn(source, key)) continue;
    const value = (source as Record<string, unknown>)[key];
    if (value !== undefined && value !== null) target[key] = value;
  }
  return target;
}

function splitOptions(options: FromAISDKOptions): { defaults: LMDefaults; client: AISDKClientOptions } {
  const defaults: Record<string, unknown> = {};
  const client: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (CLIENT_OPTION_KEYS.has(key)) client[key] = value;
    else if (key !== 'messages' && key !== 'signal') defaults[key] = value;
  }
  return { defaults: definedEntries(defaults) as LMDefaults, client: client as AISDKClientOptions };
}

function defaultModelId(model: AISDKLanguageModel): string {
  const provider = model.provider.split('.')[0] || model.provider;
  return `${provider}/${model.modelId}`;
}

/** The rollout id of sample `index` of an `n > 1` request: the request's own for the first, distinct for the rest. */
export function sampleRolloutId(rolloutId: LMRequest['rolloutId'], index: number): LMRequest['rolloutId'] {
  if (index === 0) return rolloutId;
  return `${rolloutId ?? ''}#${index}`;
}

function sampleRequests(request: LMRequest): LMRequest[] {
  const n = Math.max(1, Math.floor(request.n ?? 1));
  const { n: _n, ...single } = request;
  if (n === 1) return [single];
  return Array.from({ length: n }, (_, index) => {
    const sample: LMRequest = { ...single };
    const rolloutId = sampleRolloutId(request.rolloutId, index);
    if (rolloutId === undefined) delete sample.rolloutId;
    else sample.rolloutId = rolloutId;
    if (request.seed !== undefined) sample.seed = request.seed + index;
    return sample;
  });
}

function combine(responses: LMResponse[]): LMResponse {
  const first = responses[0] as LMResponse;
  if (responses.length === 1) return first;
  let usage: LMUsage = {};
  for (const response of responses) if (!response.cacheHit) usage = addUsage(usage, response.usage);
  const cacheHit = responses.every((response) => response.cacheHit === true);
  return {
    choices: responses.flatMap((response) => response.choices),
    usage: cacheHit ? {} : usage,
    modelId: first.modelId,
    ...(cacheHit ? { cacheHit: true } : {}),
  };
}

function linkedController(signal: AbortSignal | undefined): AbortController {
  const controller = new AbortController();
  if (signal) {
    if (signal.aborted) controller.abort(signal.reason);
    else signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
  }
  return controller;
}

/**
 * A dspy-ts LM backed by an AI SDK model. Create one with {@link fromAISDK} (or `lm('provider/model')`).
 *
 * - `n > 1` runs `n` calls in parallel: the LanguageModelV4 spec has no `n`, and a call returns one completion. Sample
 *   `i > 0` gets the rollout id `"<rolloutId>#i"` and, when a seed is set, seed `seed + i`, so each sample is cached on
 *   its own and sample 0 is the same entry as the `n = 1` request. A provider's own `n` set through `providerOptions`
 *   is passed to each call untouched, but the spec still returns only the first completion of each.
 * - Cache hits are deep copies with `cacheHit: true` and `usage: {}`.
 * - Failures are {@link LMError}s; retryable ones are retried with backoff first.
 */
export class AISDKLM implements LanguageModelV1 {
  /** Spec version. */
  readonly specificationVersion = 'v1' as const;
  /** Model id, e.g. `openai/gpt-4o-mini`. */
  readonly modelId: string;
  /** Request defaults merged under every call. */
  readonly defaults: LMDefaults;
  /** Features adapters may rely on. */
  readonly capabilities: NonNullable<LanguageModelV1['capabilities']>;
  private readonly shared: SharedState;

  /** Prefer {@link fromAISDK}. */
  constructor(shared: SharedState, defaults: LMDefaults) {
    this.shared = shared;
    this.modelId = shared.modelId;
    // Stored without unset members, so that each call can spread them as they are.
    this.defaults = Object.freeze(definedEntries(defaults));
    this.capabilities = shared.capabilities;
  }

  /** The wrapped AI SDK model; `undefined` until an `lm('provider/model')` has loaded its provider. */
  get model(): AISDKLanguageModel | undefined {
    return this.shared.model;
  }

  /** Loads (if needed) and returns the wrapped AI SDK model; rejects when the provider package is missing. */
  async loadModel(): Promise<AISDKLanguageModel> {
    const model = await this.shared.loadModel();
    this.shared.model = model;
    return model;
  }

  /** The limiter shared by this LM and its copies. */
  get limiter(): RateLimiter {
    return this.shared.limiter;
  }

  /** The cache this LM uses, or `undefined` when caching is off for it. */
  get cache(): LMCache | undefined {
    const setting = this.shared.cache;
    if (setting === false) return undefined;
    return setting === true ? getDefaultCache() : setting;
  }

  /** Runs one request (all `n` samples) to completion. */
  async generate(request: LMRequest): Promise<LMResponse> {
    const merged = this.merge(request);
    const samples = sampleRequests(merged);
    if (samples.length === 1) return this.generateSample(samples[0] as LMRequest);
    // One failed sample fails the request, so the others are cancelled instead of running on unobserved.
    const controller = linkedController(merged.signal);
    try {
      return combine(
        await Promise.all(
          samples.map((sample) =>
            this.generateSample({ ...sample, signal: controller.signal }).catch((error: unknown) => {
              controller.abort(error);
              throw error;
            }),
          ),
        ),
      );
    } catch (error) {
      // Report the caller's own abort as such, not as the first sample's failure.
      if (merged.signal?.aborted) throw toLMError(merged.signal.reason, { modelId: this.modelId, aborted: true });
      throw error;
    }
  }

  /**
   * Streams one request. Text and reasoning arrive as deltas in order, tool calls whole, and the last part is
   * `finish` with the full response. A failure before the first part is retried like {@link AISDKLM.generate}; after
   * it the error is thrown. Cache hits yield only `finish` (as in DSPy); `n > 1` is generated in full, then emitted
   * choice by choice.
   */
  async *stream(request: LMRequest): AsyncGenerator<LMStreamPart> {
    const merged = this.merge(request);
    const samples = sampleRequests(merged);
    if (samples.length > 1) {
      const response = await this.generate(merged);
      if (!response.cacheHit) yield* partsOf(response);
      yield { type: 'finish', response };
      return;
    }
    const single = samples[0] as LMRequest;
    const model = this.shared.model ?? (await this.loadModel());
    const { cache, key } = this.cacheFor(model, single);
    if (cache && key) {
      const hit = cache.get(key);
      if (hit) {
        yield { type: 'finish', response: { ...hit, usage: {}, cacheHit: true } };
        return;
      }
    }
    const response = yield* this.streamWithRetries(model, single);
    if (cache && key) cache.set(key, response);
    yield { type: 'finish', response };
  }

  /** A copy with `defaults` merged over this LM's (a `null` or `undefined` value removes a default). */
  withDefaults(defaults: LMDefaults): AISDKLM {
    const next: Record<string, unknown> = { ...this.defaults };
    for (const [key, value] of Object.entries(defaults)) {
      if (value === undefined || value === null) delete next[key];
      else next[key] = value;
    }
    return new AISDKLM(this.shared, next as LMDefaults);
  }

  /**
   * DSPy-compatible state: the model id, `model_type`, cache and retry settings and the request defaults in DSPy's
   * snake_case names. Never contains keys or endpoints.
   */
  dumpState(): Record<string, unknown> {
    const { temperature, maxTokens, topP, rolloutId, responseFormat, toolChoice, providerOptions, ...rest } =
      this.defaults;
    const state: Record<string, unknown> = {
      model: this.modelId,
      model_type: 'chat',
      cache: this.shared.cache !== false,
      num_retries: this.shared.retry.numRetries,
    };
    if (temperature !== undefined) state.temperature = temperature;
    if (maxTokens !== undefined) state.max_tokens = maxTokens;
    if (topP !== undefined) state.top_p = topP;
    if (rolloutId !== undefined) state.rollout_id = rolloutId;
    if (responseFormat !== undefined) state.response_format = responseFormat;
    if (toolChoice !== undefined) state.tool_choice = toolChoice;
    Object.assign(state, rest);
    const cleaned = requestIdentity({ messages: [], ...(providerOptions ? { providerOptions } : {}) }).providerOptions;
    if (cleaned) state.provider_options = cleaned;
    return state;
  }

  /** The LMError for a failure of `request` (`aborted` when its caller aborted, `timeout` when our timer fired). */
  private lmError(error: unknown, request: LMRequest, timedOut = false): LMError {
    return toLMError(error, {
      modelId: this.modelId,
      aborted: request.signal?.aborted === true,
      timedOut,
      timeoutMs: this.shared.timeoutMs,
    });
  }

  private merge(request: LMRequest): LMRequest {
    return assignDefined({ ...this.defaults }, request) as unknown as LMRequest;
  }

  private cacheFor(model: AISDKLanguageModel, request: LMRequest): { cache?: LMCache; key?: string } {
    if (dspyCallOptions(request).cache === false) return {};
    const cache = this.cache;
    // With every level off no key is computed (hashing a long prompt is not free).
    if (!cache?.enabled) return {};
    return { cache, key: cache.keyFor(`${model.provider}/${model.modelId}`, request) };
  }

  private async generateSample(request: LMRequest): Promise<LMResponse> {
    const model = this.shared.model ?? (await this.loadModel());
    const { cache, key } = this.cacheFor(model, request);
    if (cache && key) {
      const hit = cache.get(key);
      if (hit) return { ...hit, usage: {}, cacheHit: true };
    }
    const response = await withRetries(() => this.limitedAttempt(model, request), {
      numRetries: this.shared.retry.numRetries,
      initialDelayMs: this.shared.retry.initialDelayMs,
      maxDelayMs: this.shared.retry.maxDelayMs,
      signal: request.signal,
      onRetry: this.shared.onRetry,
      toError: (error) => this.lmError(error, request),
    });
    if (cache && key) cache.set(key, response);
    return response;
  }

  private limitedAttempt(model: AISDKLanguageModel, request: LMRequest): Promise<LMResponse> {
    const limiter = this.shared.limiter;
    if (limiter.unlimited) return this.attempt(model, request);
    return limiter.run(() => this.attempt(model, request), {
      estimatedTokens: estimateTokens(request),
      signal: request.signal,
      tokensOf: (response) => (response.usage.inputTokens ?? 0) + (response.usage.outputTokens ?? 0),
    });
  }

  /** The V4 prompt of `request`, with the image URLs `model` does not accept downloaded first. */
  private async promptWithDownloads(
    model: LanguageModelV4,
    request: LMRequest,
    signal: AbortSignal,
  ): Promise<LanguageModelV4Prompt> {
    const urls = imagesToDownload(request.messages, await model.supportedUrls);
    const downloaded = urls.length ? await downloadImages(urls, { signal, modelId: this.modelId }) : undefined;
    return toV4Prompt(request.messages, downloaded);
  }

  private prompt(
    model: LanguageModelV4,
    request: LMRequest,
    signal: AbortSignal,
  ): LanguageModelV4Prompt | Promise<LanguageModelV4Prompt> {
    // Only a request with an http(s) image consults the model's `supportedUrls` (a getter that may compute a record or
    // return a promise) and may download; the rest are converted synchronously.
    return hasRemoteImages(request.messages)
      ? this.promptWithDownloads(model, request, signal)
      : toV4Prompt(request.messages);
  }

  private async attempt(model: AISDKLanguageModel, request: LMRequest): Promise<LMResponse> {
    // One controller per attempt, aborted by the timer or by the caller's signal. (Not `AbortSignal.any`: a composite
    // signal costs ~20 µs of CPU and GC work per request once `fetch` listens to it, more than the rest of this layer.)
    const controller = new AbortController();
    const callerSignal = request.signal;
    const onCallerAbort = () => controller.abort(callerSignal?.reason);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.shared.timeoutMs);
    if (callerSignal?.aborted) onCallerAbort();
    else callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
    try {
      const v4 = asV4(model);
      const prompt = await this.prompt(v4, request, controller.signal);
      const result = await v4.doGenerate(toCallOptions(request, prompt, controller.signal));
      reportWarnings(result.warnings, v4.provider, v4.modelId);
      const choice = choiceFromContent(result.content, result.finishReason, {
        json: request.responseFormat !== undefined && request.responseFormat.type !== 'text',
        structuredOutputText: result.structuredOutputText,
      });
      checkToolChoice(request.toolChoice, choice.toolCalls, result.finishReason, this.modelId);
      return this.response(model, [choice], toUsage(result.usage), result.response?.modelId ?? model.modelId);
    } catch (error) {
      throw this.lmError(error, request, timedOut);
    } finally {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onCallerAbort);
    }
  }

  private response(
    model: AISDKLanguageModel,
    choices: LMChoice[],
    usage: LMUsage,
    responseModelId: string | undefined,
  ): LMResponse {
    const ids = responseModelId ? [this.modelId, responseModelId] : [this.modelId];
    return {
      choices,
      usage: withCost(usage, ids, this.shared.pricing),
      modelId: responseModelId || model.modelId,
    };
  }

  private async *streamWithRetries(
    model: AISDKLanguageModel,
    request: LMRequest,
  ): AsyncGenerator<LMStreamPart, LMResponse> {
    const { retry } = this.shared;
    for (let attempt = 0; ; attempt++) {
      const state = { emitted: false };
      try {
        return yield* this.streamAttempt(model, request, state);
      } catch (raw) {
        const error = this.lmError(raw, request);
        // Parts already handed to the caller cannot be taken back, so only a stream that produced nothing is retried.
        if (state.emitted || !error.isRetryable || attempt >= retry.numRetries || request.signal?.aborted) throw error;
        const delay = retryDelay(error, attempt, retry);
        this.shared.onRetry?.(error, attempt, delay);
        try {
          await sleep(delay, request.signal);
        } catch (reason) {
          throw toLMError(reason, { modelId: this.modelId, aborted: true });
        }
      }
    }
  }

  private async *streamAttempt(
    model: AISDKLanguageModel,
    request: LMRequest,
    state: { emitted: boolean },
  ): AsyncGenerator<LMStreamPart, LMResponse> {
    const limiter = this.shared.limiter;
    const permit = limiter.unlimited ? undefined : await limiter.acquire(estimateTokens(request), request.signal);
    const controller = linkedController(request.signal);
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const armTimer = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, this.shared.timeoutMs);
    };
    let usage: LMUsage = {};
    try {
      armTimer();
      const v4 = asV4(model);
      const prompt = await this.prompt(v4, request, controller.signal);
      const { stream } = await v4.doStream(toCallOptions(request, prompt, controller.signal));
      let text = '';
      let reasoning = '';
      const toolCalls: ToolCall[] = [];
      let finish: LanguageModelV4FinishReason | undefined;
      let responseModelId: string | undefined;
      for await (const part of stream) {
        armTimer();
        switch (part.type) {
          case 'text-delta':
            if (!part.delta) break;
            text += part.delta;
            state.emitted = true;
            yield { type: 'text-delta', choiceIndex: 0, delta: part.delta };
            break;
          case 'reasoning-delta':
            if (!part.delta) break;
            reasoning += part.delta;
            state.emitted = true;
            yield { type: 'reasoning-delta', choiceIndex: 0, delta: part.delta };
            break;
          case 'tool-call': {
            const call = toToolCall(part);
            toolCalls.push(call);
            state.emitted = true;
            yield { type: 'tool-call', choiceIndex: 0, toolCall: call };
            break;
          }
          case 'stream-start':
            reportWarnings(part.warnings, v4.provider, v4.modelId);
            break;
          case 'response-metadata':
            if (part.modelId) responseModelId = part.modelId;
            break;
          case 'finish':
            finish = part.finishReason;
            usage = toUsage(part.usage);
            break;
          case 'error':
            throw part.error;
          default:
            break;
        }
      }
      if (controller.signal.aborted) throw controller.signal.reason;
      checkToolChoice(request.toolChoice, toolCalls, finish, this.modelId);
      const choice = toChoice({ text, reasoning, toolCalls, finishReason: toFinishReason(finish) });
      return this.response(model, [choice], usage, responseModelId ?? model.modelId);
    } catch (error) {
      throw this.lmError(error, request, timedOut);
    } finally {
      clearTimeout(timer);
      // Stops the HTTP request when the caller stops reading early or the stream failed.
      if (!controller.signal.aborted) controller.abort();
      permit?.release((usage.inputTokens ?? 0) + (usage.outputTokens ?? 0) || undefined);
    }
  }
}

const v4Models = new WeakMap<AISDKLanguageModel, LanguageModelV4>();

/**
 * `model` as a LanguageModelV4: itself, or for a V3 model the AI SDK's own adapter (which converts V4 prompts to V3 and
 * V3 results back), made once per model. `wrapLanguageModel` without middleware returns exactly that adapter.
 */
function asV4(model: AISDKLanguageModel): LanguageModelV4 {
  if (model.specificationVersion === 'v4') return model;
  let adapted = v4Models.get(model);
  if (!adapted) {
    adapted = wrapLanguageModel({ model, middleware: [] });
    v4Models.set(model, adapted);
  }
  return adapted;
}

function* partsOf(response: LMResponse): Generator<LMStreamPart> {
  for (const [choiceIndex, choice] of response.choices.entries()) {
    if (choice.reasoning) yield { type: 'reasoning-delta', choiceIndex, delta: choice.reasoning };
    if (choice.text) yield { type: 'text-delta', choiceIndex, delta: choice.text };
    for (const toolCall of choice.toolCalls ?? []) yield { type: 'tool-call', choiceIndex, toolCall };
  }
}

/**
 * Wraps an AI SDK language model (specification V4 or V3, from any provider package) as a dspy-ts LM.
 *
 * @param model E.g. `openai('gpt-4o-mini')` or `createOpenAICompatible({ … }).chatModel('llama3')`.
 * @param options Request defaults (`temperature`, `maxTokens`, …) and client settings (`cache`, `numRetries`,
 *   `timeoutMs`, `rateLimit`, `pricing`, …).
 *
 * @example
 * ```ts
 * import { openai } from '@ai-sdk/openai';
 * const lm = fromAISDK(openai('gpt-4o-mini'), { temperature: 0, rateLimit: { maxConcurrency: 8 } });
 * configure({ lm });
 * ```
 */
export function fromAISDK(model: AISDKLanguageModel, options: FromAISDKOptions = {}): AISDKLM {
  if (typeof model !== 'object' || model === null || typeof model.doGenerate !== 'function') {
    throw new TypeError(
      'fromAISDK expects an AI SDK language model object (e.g. `openai("gpt-4o-mini")`); for a "provider/model" ' +
        'string use `lm("provider/model")`.',
    );
  }
  const loaded = Promise.resolve(model);
  return createAISDKLM(() => loaded, model, options.modelId ?? defaultModelId(model), options);
}

/**
 * Builds an {@link AISDKLM} whose model comes from `loadModel` (called on first use). Used by {@link fromAISDK} and
 * by `lm('provider/model')`, which imports the provider package lazily.
 */
export function createAISDKLM(
  loadModel: () => Promise<AISDKLanguageModel>,
  model: AISDKLanguageModel | undefined,
  modelId: string,
  options: FromAISDKOptions,
): AISDKLM {
  const { defaults, client } = splitOptions(options);
  const retry = resolveRetryOptions({
    ...client.retry,
    ...(client.numRetries === undefined ? {} : { numRetries: client.numRetries }),
  });
  const shared: SharedState = {
    loadModel,
    model,
    modelId,
    cache: client.cache ?? true,
    retry,
    timeoutMs: client.timeoutMs ?? 600_000,
    limiter: client.rateLimit instanceof RateLimiter ? client.rateLimit : new RateLimiter(client.rateLimit),
    pricing: client.pricing,
    capabilities: {
      structuredOutputs: true,
      jsonMode: true,
      tools: true,
      multipleChoices: false,
      ...client.capabilities,
    },
    onRetry: client.onRetry,
  };
  return new AISDKLM(shared, defaults);
}

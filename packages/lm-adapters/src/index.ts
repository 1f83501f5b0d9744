/**
 * `@dspy-ts/lm-adapters`: any Vercel AI SDK model as a dspy-ts LM.
 *
 * - {@link fromAISDK} wraps an AI SDK language model (V4 or V3) as core's `LanguageModelV1`; {@link lm} does the same
 *   from a `"provider/model"` string by importing the installed provider package.
 * - Responses are cached in two levels ({@link LMCache}: in-memory LRU + SQLite shared between processes).
 * - Retryable failures are retried with exponential backoff honouring `Retry-After`; every failure is a core
 *   `LMError` with a `kind`.
 * - A {@link RateLimiter} caps concurrency and requests/tokens per minute per LM object.
 * - Usage carries cached and reasoning tokens and a USD cost (`tokenlens` prices or your own).
 * - {@link recording} / {@link replaying} record and replay calls as JSONL cassettes.
 * - {@link embedder} wraps AI SDK embedding models as core's `Embedder`.
 *
 * @example
 * ```ts
 * import { configure, Predict } from '@dspy-ts/core';
 * import { lm } from '@dspy-ts/lm-adapters';
 *
 * configure({ lm: lm('openai/gpt-4o-mini', { temperature: 0 }) });
 * const qa = new Predict('question -> answer');
 * console.log((await qa.call({ question: 'What is the capital of France?' })).answer);
 * ```
 *
 * @module
 */
export {
  canonicalJson,
  DSPY_PROVIDER_OPTIONS_KEY,
  embeddingKey,
  requestIdentity,
  requestKey,
} from './canonical-request.ts';
export {
  type CassetteEntry,
  cassetteKey,
  RecordingLM,
  ReplayingLM,
  type ReplayOptions,
  recording,
  replaying,
} from './cassette.ts';
export type { DspyCallOptions } from './convert-request.ts';
export { AISDKEmbedder, type AISDKEmbeddingModel, type EmbedderOptions, embedder } from './embedder.ts';
export {
  type AISDKClientOptions,
  type AISDKLanguageModel,
  AISDKLM,
  type FromAISDKOptions,
  fromAISDK,
  type LMDefaults,
  sampleRolloutId,
} from './from-ai-sdk.ts';
export { configureCache, defaultCacheDir, getDefaultCache, LMCache, type LMCacheOptions } from './lm-cache.ts';
export { type LocalFailureContext, redactSecrets, retryAfterOf, toLMError } from './map-error.ts';
export { costOf, type ModelPrice, type PricingTable, priceFor, withCost } from './pricing.ts';
export {
  type AISDKProvider,
  importProvider,
  KNOWN_PROVIDERS,
  type LMOptions,
  lm,
  loadProviderRegistry,
  parseModelString,
} from './provider-registry.ts';
export { type Permit, RateLimiter, type RateLimitOptions } from './rate-limiter.ts';
export {
  backoffDelay,
  type ResolvedRetryOptions,
  type RetryOptions,
  resolveRetryOptions,
  retryDelay,
  type WithRetriesOptions,
  withRetries,
} from './retry.ts';
export { parseRetryAfter } from './retry-after.ts';
export { SqliteStore, type SqliteStoreOptions } from './sqlite-store.ts';

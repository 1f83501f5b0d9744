import { configure, Predict, trackUsage } from '@dspy-ts/core';
import { configureCache, LMCache, lm, RateLimiter, recording, replaying } from '@dspy-ts/lm-adapters';

// #region cache
// The default cache is memory + SQLite in $DSPY_CACHEDIR (default ~/.dspy_cache). Replace it process-wide…
configureCache(new LMCache({ disk: '.cache/lm.sqlite' }));
// …or per LM, or turn it off for one LM:
const uncached = lm('openai/gpt-4o-mini', { cache: false });
// #endregion cache

// #region limits
// Retries, timeouts and rate limits are per LM (and shared with its withDefaults() copies).
const shared = new RateLimiter({ maxConcurrency: 8, requestsPerMinute: 500 });
const gpt = lm('openai/gpt-4o-mini', {
  numRetries: 5,
  timeoutMs: 60_000,
  rateLimit: shared,
  onRetry: (error, attempt, delayMs) => console.warn(`retry ${attempt} in ${delayMs} ms: ${error.kind}`),
});
// #endregion limits

// #region usage
configure({ lm: gpt, trackUsage: true });
const qa = new Predict('question -> answer');
const prediction = await qa.call({ question: 'What is DSPy?' });
// { 'openai/gpt-4o-mini': { inputTokens, outputTokens, cachedInputTokens?, reasoningTokens?, costUsd } }
console.log(prediction.lmUsage);

// Usage of everything inside a block, whatever the modules:
const { usage } = await trackUsage(() => qa.call({ question: 'And DSPy for TypeScript?' }));
console.log(usage['openai/gpt-4o-mini']?.costUsd);
// #endregion usage

// #region bypass
// Bypass the cache (no read, no write) for one call:
await qa.call({ question: 'What time is it?' }, { config: { providerOptions: { dspy: { cache: false } } } });
// #endregion bypass

// #region cassettes
const live = recording(lm('openai/gpt-4o-mini'), 'test/cassettes/qa.jsonl'); // appends every call
const offline = replaying('test/cassettes/qa.jsonl'); // serves them back, deterministically
// #endregion cassettes

console.log(uncached.modelId, live.modelId, offline.modelId);

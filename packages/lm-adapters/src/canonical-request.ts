import { createHash } from 'node:crypto';
import type { LMRequest } from '@dspy-ts/core';

/**
 * Provider-option keys that identify an account or an endpoint rather than the request itself. They never enter a
 * cache key or a cassette (DSPy drops `api_key`, `api_base` and `base_url` the same way).
 */
const SECRET_OR_ENDPOINT_KEYS = new Set([
  'apiKey',
  'api_key',
  'apiBase',
  'api_base',
  'baseURL',
  'baseUrl',
  'base_url',
  'headers',
  'authorization',
  'Authorization',
]);

/** Name of the `providerOptions` entry that carries dspy-ts's own per-call options (never sent to a provider). */
export const DSPY_PROVIDER_OPTIONS_KEY = 'dspy';

function canonicalValue(value: unknown, seen: Set<object>): unknown {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'function' || typeof value === 'symbol') return undefined;
    return value;
  }
  if (seen.has(value)) throw new TypeError('Cannot build a cache key for a request that contains a cycle.');
  seen.add(value);
  try {
    if (value instanceof Uint8Array) return { __bytes: Buffer.from(value).toString('base64') };
    if (value instanceof Date) return value.toISOString();
    if (Array.isArray(value)) return value.map((item) => canonicalValue(item, seen) ?? null);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const item = canonicalValue((value as Record<string, unknown>)[key], seen);
      if (item !== undefined) out[key] = item;
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

/**
 * JSON with object keys sorted at every depth and `undefined` members dropped, so that two requests that mean the
 * same thing serialize to the same string (the equivalent of DSPy's `orjson.dumps(…, OPT_SORT_KEYS)`).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonicalValue(value, new Set())) ?? 'null';
}

/**
 * The part of a request that decides its answer: everything except the abort signal, dspy-ts's own per-call options
 * and provider options that name keys or endpoints. `rolloutId: null` is treated as absent, as in DSPy.
 */
export function requestIdentity(request: LMRequest): Record<string, unknown> {
  const { signal: _signal, providerOptions, rolloutId, ...rest } = request;
  const identity: Record<string, unknown> = { ...rest };
  if (rolloutId !== undefined && rolloutId !== null) identity.rolloutId = rolloutId;
  const cleaned = providerOptionsIdentity(providerOptions);
  if (cleaned) identity.providerOptions = cleaned;
  return identity;
}

/** Provider options without dspy-ts's own entry and without keys that name accounts or endpoints. */
function providerOptionsIdentity(
  providerOptions: LMRequest['providerOptions'],
): Record<string, Record<string, unknown>> | undefined {
  if (!providerOptions) return undefined;
  const cleaned: Record<string, Record<string, unknown>> = {};
  for (const [provider, options] of Object.entries(providerOptions)) {
    if (provider === DSPY_PROVIDER_OPTIONS_KEY) continue;
    cleaned[provider] = Object.fromEntries(
      Object.entries(options ?? {}).filter(([key]) => !SECRET_OR_ENDPOINT_KEYS.has(key)),
    );
  }
  return Object.keys(cleaned).length > 0 ? cleaned : undefined;
}

/**
 * SHA-256 (hex) of the canonical form of `{ model, request }`: the cache and cassette key of a request to `model`.
 *
 * @param model Identity of the model (provider and model id), so two models never share entries.
 * @param request The request; its signal, dspy options and key/endpoint provider options are ignored.
 * @param namespace Distinguishes call kinds that share a cache (e.g. `generate` vs `embed`).
 */
export function requestKey(model: string, request: LMRequest, namespace = 'generate'): string {
  const payload = canonicalJson({ fn: `@dspy-ts/lm-adapters.${namespace}`, model, request: requestIdentity(request) });
  return createHash('sha256').update(payload).digest('hex');
}

/**
 * SHA-256 (hex) of the canonical form of one text to embed: the embedding cache key. Covers the model, the text and
 * the provider options (which can change the vector, e.g. `dimensions`), never keys or endpoints among them.
 *
 * @param model Identity of the embedding model, e.g. `openai/text-embedding-3-small`.
 */
export function embeddingKey(
  model: string,
  value: string,
  providerOptions?: Record<string, Record<string, unknown>>,
): string {
  const cleaned = providerOptionsIdentity(providerOptions);
  const request = cleaned ? { value, providerOptions: cleaned } : { value };
  const payload = canonicalJson({ fn: '@dspy-ts/lm-adapters.embed', model, request });
  return createHash('sha256').update(payload).digest('hex');
}

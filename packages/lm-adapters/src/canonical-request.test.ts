import type { LMRequest } from '@dspy-ts/core';
import { describe, expect, it } from 'vitest';
import { canonicalJson, embeddingKey, requestIdentity, requestKey } from './canonical-request.ts';

const base: LMRequest = { messages: [{ role: 'user', content: 'hi' }], temperature: 0 };

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ z: 1, y: undefined, x: 2 }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[{"x":2,"z":1}]},"b":1}',
    );
  });

  it('rejects cycles instead of overflowing the stack', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/cycle/);
  });
});

describe('requestKey', () => {
  it('is a SHA-256 hex digest independent of key order', () => {
    const a = requestKey('m', { temperature: 0, messages: base.messages } as LMRequest);
    const b = requestKey('m', { messages: base.messages, temperature: 0 });
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(a).toBe(b);
  });

  it('includes the rollout id (null counting as absent) and the model', () => {
    const plain = requestKey('m', base);
    expect(requestKey('m', { ...base, rolloutId: 1 })).not.toBe(plain);
    expect(requestKey('m', { ...base, rolloutId: null as never })).toBe(plain);
    expect(requestKey('other', base)).not.toBe(plain);
  });

  it('ignores the signal, dspy options, API keys and endpoints but not real provider options', () => {
    const plain = requestKey('m', base);
    const noisy: LMRequest = {
      ...base,
      signal: new AbortController().signal,
      providerOptions: { dspy: { cache: false }, openai: { apiKey: 'sk-secret', baseURL: 'http://x' } },
    };
    expect(requestKey('m', noisy)).toBe(requestKey('m', { ...base, providerOptions: { openai: {} } }));
    expect(requestKey('m', { ...base, providerOptions: { openai: { reasoningEffort: 'low' } } })).not.toBe(plain);
    expect(JSON.stringify(requestIdentity(noisy))).not.toContain('sk-secret');
  });
});

describe('embeddingKey', () => {
  it('depends on model, text and provider options, not on keys, endpoints or option order', () => {
    const key = embeddingKey('openai/text-embedding-3-small', 'hello', { openai: { dimensions: 256 } });
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(
      embeddingKey('openai/text-embedding-3-small', 'hello', {
        openai: { apiKey: 'sk-secret-123456', baseURL: 'https://proxy.example', dimensions: 256 },
      }),
    ).toBe(key);
    expect(embeddingKey('openai/text-embedding-3-large', 'hello', { openai: { dimensions: 256 } })).not.toBe(key);
    expect(embeddingKey('openai/text-embedding-3-small', 'hello!', { openai: { dimensions: 256 } })).not.toBe(key);
    expect(embeddingKey('openai/text-embedding-3-small', 'hello', { openai: { dimensions: 512 } })).not.toBe(key);
    expect(embeddingKey('openai/text-embedding-3-small', 'hello')).not.toBe(key);
    // Never the same key as a chat request.
    expect(embeddingKey('m', 'hello')).not.toBe(requestKey('m', { messages: [{ role: 'user', content: 'hello' }] }));
  });
});

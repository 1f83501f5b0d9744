import { describe, expect, it } from 'vitest';
import { costOf, priceFor, splitModelId, withCost } from './pricing.ts';

describe('pricing', () => {
  it('knows catalog models by provider-qualified id (tokenlens)', () => {
    const price = priceFor('openai/gpt-4o-mini');
    expect(price?.inputPerMTok).toBeGreaterThan(0);
    expect(price?.outputPerMTok).toBeGreaterThan(price?.inputPerMTok ?? 0);
    expect(priceFor('local/unknown-model')).toBeUndefined();
  });

  it('prefers user overrides, by full or bare model id', () => {
    const pricing = { 'my-model': { inputPerMTok: 1, outputPerMTok: 2 } };
    expect(priceFor('local/my-model', pricing)).toEqual(pricing['my-model']);
    expect(
      priceFor('openai/gpt-4o-mini', { 'openai/gpt-4o-mini': { inputPerMTok: 9, outputPerMTok: 9 } })?.inputPerMTok,
    ).toBe(9);
  });

  it('charges cached input at the cached price and leaves unknown usage uncosted', () => {
    const price = { inputPerMTok: 2, outputPerMTok: 10, cachedInputPerMTok: 1 };
    expect(costOf({ inputTokens: 1_000_000, cachedInputTokens: 500_000, outputTokens: 100_000 }, price)).toBeCloseTo(
      1 + 0.5 + 1,
      10,
    );
    expect(costOf({}, price)).toBeUndefined();
    expect(withCost({ inputTokens: 10 }, ['local/x'])).toEqual({ inputTokens: 10 });
  });

  it('reduces AI SDK provider names to the provider', () => {
    expect(splitModelId('openai.chat/gpt-4o')).toEqual(['openai', 'gpt-4o']);
    expect(splitModelId('plain')).toEqual([undefined, 'plain']);
  });
});

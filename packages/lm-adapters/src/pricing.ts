import type { LMUsage } from '@dspy-ts/core';
import { defaultCatalog, getModelMeta } from 'tokenlens';

/** Prices of one model in US dollars per million tokens. */
export interface ModelPrice {
  /** Price of an (uncached) input token, per million. */
  inputPerMTok: number;
  /** Price of an output token (reasoning tokens included), per million. */
  outputPerMTok: number;
  /** Price of an input token served from the provider's prompt cache, per million. Default: `inputPerMTok`. */
  cachedInputPerMTok?: number;
}

/** User prices keyed by model id, with or without the provider prefix (`'openai/gpt-4o-mini'` or `'my-model'`). */
export type PricingTable = Record<string, ModelPrice>;

const catalogPrices = new Map<string, ModelPrice | null>();

function catalogPrice(provider: string, model: string): ModelPrice | undefined {
  const id = `${provider}/${model}`;
  const known = catalogPrices.get(id);
  if (known !== undefined) return known ?? undefined;
  let price: ModelPrice | null = null;
  try {
    const meta = getModelMeta({ providers: defaultCatalog, id }) as
      | { cost?: { input?: number; output?: number; cache_read?: number } }
      | undefined;
    const cost = meta?.cost;
    if (cost && typeof cost.input === 'number' && typeof cost.output === 'number') {
      price = { inputPerMTok: cost.input, outputPerMTok: cost.output };
      if (typeof cost.cache_read === 'number') price.cachedInputPerMTok = cost.cache_read;
    }
  } catch {
    price = null;
  }
  catalogPrices.set(id, price);
  return price ?? undefined;
}

/**
 * Splits a model id into provider and model: `openai/gpt-4o-mini` → `['openai', 'gpt-4o-mini']`. AI SDK provider
 * names such as `openai.chat` or `openai.responses` are reduced to `openai`.
 */
export function splitModelId(modelId: string): [provider: string | undefined, model: string] {
  const slash = modelId.indexOf('/');
  if (slash < 0) return [undefined, modelId];
  const provider = modelId.slice(0, slash).split('.')[0] as string;
  return [provider, modelId.slice(slash + 1)];
}

/**
 * The price of `modelId`: a user override (by full id, then by the id without provider), else the `tokenlens`
 * catalog entry for the provider-qualified id. `undefined` when neither knows the model.
 */
export function priceFor(modelId: string, overrides: PricingTable = {}): ModelPrice | undefined {
  const [provider, model] = splitModelId(modelId);
  const override = overrides[modelId] ?? (provider ? overrides[`${provider}/${model}`] : undefined) ?? overrides[model];
  if (override) return override;
  return provider ? catalogPrice(provider, model) : undefined;
}

/**
 * Cost of `usage` at `price` in US dollars: uncached input + cached input (at the cached price when known) + output.
 * `undefined` when the usage has no token counts at all.
 */
export function costOf(usage: LMUsage, price: ModelPrice): number | undefined {
  if (usage.inputTokens === undefined && usage.outputTokens === undefined) return undefined;
  const input = usage.inputTokens ?? 0;
  const cached = Math.min(usage.cachedInputTokens ?? 0, input);
  const cachedPrice = price.cachedInputPerMTok ?? price.inputPerMTok;
  const dollars =
    (input - cached) * price.inputPerMTok + cached * cachedPrice + (usage.outputTokens ?? 0) * price.outputPerMTok;
  return dollars / 1_000_000;
}

/** `usage` with `costUsd` filled in when the price of one of `modelIds` (tried in order) is known. */
export function withCost(usage: LMUsage, modelIds: readonly string[], overrides?: PricingTable): LMUsage {
  for (const id of modelIds) {
    const price = priceFor(id, overrides);
    if (!price) continue;
    const cost = costOf(usage, price);
    return cost === undefined ? usage : { ...usage, costUsd: cost };
  }
  return usage;
}

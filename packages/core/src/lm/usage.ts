import { AsyncLocalStorage } from 'node:async_hooks';
import type { LMUsage } from './spec.ts';

/** Token usage summed per model id, e.g. `{ 'openai/gpt-4o-mini': { inputTokens: 120, outputTokens: 30 } }`. */
export type UsageByModel = Record<string, LMUsage>;

const USAGE_KEYS = ['inputTokens', 'outputTokens', 'cachedInputTokens', 'reasoningTokens', 'costUsd'] as const;

/**
 * Adds two usage records field by field. A field missing from both stays missing (unknown is not zero); a field
 * known in only one of them keeps that value.
 */
export function addUsage(a: LMUsage, b: LMUsage): LMUsage {
  const sum: LMUsage = {};
  for (const key of USAGE_KEYS) {
    const x = a[key];
    const y = b[key];
    if (x === undefined && y === undefined) continue;
    sum[key] = (x ?? 0) + (y ?? 0);
  }
  return sum;
}

/** Collects usage of the LM calls made while it is active (see {@link trackUsage}). */
export class UsageTracker {
  private readonly totals: UsageByModel = {};

  /** Adds the usage of one call to `modelId`'s total. */
  add(modelId: string, usage: LMUsage): void {
    this.totals[modelId] = addUsage(this.totals[modelId] ?? {}, usage);
  }

  /** A copy of the totals so far, keyed by model id. */
  totalUsage(): UsageByModel {
    return Object.fromEntries(Object.entries(this.totals).map(([model, usage]) => [model, { ...usage }]));
  }
}

const activeTrackers = new AsyncLocalStorage<readonly UsageTracker[]>();

/** The usage trackers active in the current async context, outermost first. */
export function activeUsageTrackers(): readonly UsageTracker[] {
  return activeTrackers.getStore() ?? [];
}

/**
 * Runs `fn` and returns its result together with the token usage of every LM call made inside it (including calls
 * made by concurrent async work started inside `fn`), summed per model. Cache hits are not counted, as in DSPy.
 * Trackers nest: an outer tracker also counts the calls of an inner one.
 *
 * @example
 * ```ts
 * const { result, usage } = await trackUsage(() => qa.call({ question: 'Why?' }));
 * console.log(usage['openai/gpt-4o-mini']?.outputTokens);
 * ```
 */
export async function trackUsage<T>(fn: () => T | Promise<T>): Promise<{ result: T; usage: UsageByModel }> {
  const tracker = new UsageTracker();
  const result = await activeTrackers.run([...activeUsageTrackers(), tracker], fn);
  return { result, usage: tracker.totalUsage() };
}

import type { Callback, LanguageModelV1, LMResponse, LMUsage } from '@dspy-ts/core';

/** What one model cost during a compile. */
export interface ModelStats {
  /** Requests answered by the model (cache hits and checkpoint replays excluded). */
  lmCalls: number;
  /** Prompt tokens of those requests. */
  inputTokens: number;
  /** Completion tokens of those requests. */
  outputTokens: number;
  /** Dollars, when the LM reports prices; `undefined` when no request carried a cost. */
  costUsd: number | undefined;
}

/**
 * What a compile spent, summed from the usage record of every LM response (the same records `trackUsage` sums).
 * Requests answered from a cache or replayed from a checkpoint cost nothing and are counted apart.
 */
export interface CompileStats extends ModelStats {
  /** Requests answered from the LM's cache (`cacheHit: true`). */
  cacheHits: number;
  /** Requests answered from the checkpoint's journal of an interrupted run. */
  replayedCalls: number;
  /** The same numbers per model id. */
  byModel: Record<string, ModelStats>;
}

/** Stats with every count at zero. */
export function emptyStats(): CompileStats {
  return {
    lmCalls: 0,
    inputTokens: 0,
    outputTokens: 0,
    costUsd: undefined,
    cacheHits: 0,
    replayedCalls: 0,
    byModel: {},
  };
}

function addCost(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined && b === undefined ? undefined : (a ?? 0) + (b ?? 0);
}

function addModel(a: ModelStats | undefined, b: ModelStats): ModelStats {
  return {
    lmCalls: (a?.lmCalls ?? 0) + b.lmCalls,
    inputTokens: (a?.inputTokens ?? 0) + b.inputTokens,
    outputTokens: (a?.outputTokens ?? 0) + b.outputTokens,
    costUsd: addCost(a?.costUsd, b.costUsd),
  };
}

/** `a + b`, field by field and model by model. */
export function addStats(a: CompileStats, b: CompileStats): CompileStats {
  const byModel: Record<string, ModelStats> = { ...a.byModel };
  for (const [model, stats] of Object.entries(b.byModel)) byModel[model] = addModel(byModel[model], stats);
  return {
    ...addModel(a, b),
    cacheHits: a.cacheHits + b.cacheHits,
    replayedCalls: a.replayedCalls + b.replayedCalls,
    byModel,
  };
}

const replayed = new WeakSet<LMResponse>();

/** Marks a response as replayed from a checkpoint journal, so {@link StatsRecorder} does not count it as spent. */
export function markReplayed(response: LMResponse): LMResponse {
  replayed.add(response);
  return response;
}

/**
 * A core {@link Callback} that counts every LM request finished while it is installed (through
 * `context({ callbacks })`), with the usage each response reports.
 */
export class StatsRecorder implements Callback {
  private stats: CompileStats = emptyStats();
  private readonly pending = new Map<string, string>();
  /** Called after every counted response. */
  onChange: (() => void) | undefined;

  /** Remembers which model a request goes to. */
  onLmStart(callId: string, lm: LanguageModelV1): void {
    this.pending.set(callId, lm.modelId);
  }

  /** Counts a finished request. Failed requests are not counted: they returned no usage to pay for. */
  onLmEnd(callId: string, response: LMResponse | undefined): void {
    const modelId = this.pending.get(callId) ?? response?.modelId ?? 'unknown';
    this.pending.delete(callId);
    if (!response) return;
    if (replayed.has(response)) {
      this.stats.replayedCalls++;
    } else if (response.cacheHit === true) {
      this.stats.cacheHits++;
    } else {
      this.add(modelId, response.usage);
    }
    this.onChange?.();
  }

  private add(modelId: string, usage: LMUsage): void {
    const one: ModelStats = {
      lmCalls: 1,
      inputTokens: usage.inputTokens ?? 0,
      outputTokens: usage.outputTokens ?? 0,
      costUsd: usage.costUsd,
    };
    this.stats = addStats(this.stats, { ...emptyStats(), ...one, byModel: { [modelId]: one } });
  }

  /** LM requests that reached a model so far. */
  get lmCalls(): number {
    return this.stats.lmCalls;
  }

  /** A copy of the counts so far. */
  snapshot(): CompileStats {
    return structuredClone(this.stats);
  }
}

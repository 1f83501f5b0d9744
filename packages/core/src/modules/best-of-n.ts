import { ConfigurationError } from '../errors.ts';
import type { LanguageModelV1 } from '../lm/spec.ts';
import { context, getSetting, type TraceEntry } from '../settings/settings.ts';
import { Module, type ModuleCallOptions } from './module.ts';

/** Scores a prediction given the inputs the module was called with; higher is better. */
export type RewardFn<I = Record<string, unknown>, P = unknown> = (inputs: I, prediction: P) => number | Promise<number>;

/** Options of {@link BestOfN}. */
export interface BestOfNOptions<I, P> {
  /** How many attempts at most. */
  N: number;
  /** Scores each attempt. */
  rewardFn: RewardFn<I, P>;
  /** Stop as soon as an attempt scores at least this much. */
  threshold: number;
  /** Failed attempts tolerated (DSPy's `fail_count`); defaults to `N`. See {@link BestOfN} for the exact rule. */
  failCount?: number;
}

/** One attempt's LM: `lm.withDefaults({ rolloutId, temperature: 1 })` when the LM supports it, else `lm`. */
export function rolloutLM(lm: LanguageModelV1, rolloutId: number): LanguageModelV1 {
  return lm.withDefaults ? lm.withDefaults({ rolloutId, temperature: 1 }) : lm;
}

/** The LM a module runs with: the one shared by its predictors, else the configured one. */
export function resolveModuleLM(module: Module<any, any, any>, who: string): LanguageModelV1 {
  const lm = module.getLm() ?? getSetting('lm');
  if (!lm) {
    throw new ConfigurationError(
      `${who} needs an LM to draw fresh samples from: set one with \`configure({ lm })\` or \`module.setLm(lm)\`.`,
    );
  }
  return lm;
}

/** The first rollout id: the LM's default `rolloutId` when it is a number, else 0 (DSPy's `lm.kwargs.get`). */
export function startRolloutId(lm: LanguageModelV1): number {
  const start = lm.defaults?.rolloutId;
  return typeof start === 'number' ? start : 0;
}

/**
 * Runs a module up to `N` times with fresh rollout ids at temperature 1 and returns the best prediction, or the
 * first whose reward reaches `threshold` (DSPy's `dspy.BestOfN`). Each attempt runs on a deep copy of the module
 * whose predictors use `lm.withDefaults({ rolloutId: start + i, temperature: 1 })`, under a fresh trace; the best
 * attempt's trace is appended to the caller's trace.
 *
 * Failures follow DSPy's `fail_count` rule: attempt `i` (0-based) failing re-throws when `i > failCount`,
 * otherwise `failCount` decreases by one (a per-call count; DSPy mutates the module's own `fail_count`) — so with the default `failCount = N` the third failure in a row
 * re-throws. When every attempt failed without triggering the rule (DSPy then returns `None`), the last error is
 * re-thrown.
 *
 * @example
 * ```ts
 * const oneWord = (_args, pred) => (pred.answer.split(' ').length === 1 ? 1 : 0);
 * const best = new BestOfN(new ChainOfThought('question -> answer'), { N: 3, rewardFn: oneWord, threshold: 1 });
 * await best.call({ question: 'What is the capital of Belgium?' });
 * ```
 */
export class BestOfN<I extends Record<string, unknown> = Record<string, unknown>, P = unknown> extends Module<
  I,
  P,
  ModuleCallOptions
> {
  /** The module being sampled. */
  module: Module<I, P, any>;
  /** Maximum number of attempts. */
  N: number;
  /** Reward that ends the search early. */
  threshold: number;
  /** Failed attempts tolerated. */
  failCount: number;
  /** Scores attempts (not a parameter: kept off the module walk). */
  declare readonly rewardFn: RewardFn<I, P>;

  constructor(module: Module<I, P, any>, options: BestOfNOptions<I, P>) {
    super();
    this.module = module;
    this.N = options.N;
    this.threshold = options.threshold;
    this.failCount = options.failCount || options.N;
    Object.defineProperty(this, 'rewardFn', { value: options.rewardFn, enumerable: false, writable: true });
  }

  override async forward(inputs: I, options: ModuleCallOptions = {}): Promise<P> {
    const lm = resolveModuleLM(this.module, 'BestOfN');
    const start = startRolloutId(lm);
    let failCount = this.failCount;
    let best: { prediction: P; trace: TraceEntry[]; reward: number } | undefined;
    let lastError: unknown;
    for (let idx = 0; idx < this.N; idx++) {
      const rid = start + idx;
      const copy = this.module.deepCopy();
      copy.setLm(rolloutLM(lm, rid));
      try {
        const trace: TraceEntry[] = [];
        const prediction = await context({ trace }, () => copy.call(inputs, options));
        const reward = await this.rewardFn(inputs, prediction);
        if (best === undefined || reward > best.reward) best = { prediction, trace, reward };
        if (reward >= this.threshold) break;
      } catch (error) {
        if (options.signal?.aborted) throw error;
        console.warn(`BestOfN: Attempt ${idx + 1} failed with rollout id ${rid}: ${String(error)}`);
        lastError = error;
        if (idx > failCount) throw error;
        failCount -= 1;
      }
    }
    if (best === undefined) throw lastError;
    getSetting('trace')?.push(...best.trace);
    return best.prediction;
  }
}

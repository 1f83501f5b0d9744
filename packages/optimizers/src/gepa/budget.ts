import { OptimizerError } from '../optimizer-error.ts';

/** GEPA's `auto` presets. */
export type GEPAAuto = 'light' | 'medium' | 'heavy';

/** DSPy's `AUTO_RUN_SETTINGS` (shared with MIPROv2); GEPA uses `n` as the number of candidates. */
export const GEPA_AUTO_RUN_SETTINGS: Readonly<Record<GEPAAuto, { n: number; valSize: number }>> = {
  light: { n: 6, valSize: 100 },
  medium: { n: 12, valSize: 300 },
  heavy: { n: 18, valSize: 1000 },
};

/**
 * DSPy's `GEPA.auto_budget`: the metric calls an `auto` run may spend.
 *
 * `N = int(max(2·(2P)·log2(n), 1.5n))` trials for `P` predictors and `n` candidates; the budget is
 * `V + 5n + N·M`, plus `((N + 1) // m + 1 + [N < m]) · V` for the periodic full evaluations (`V` validation
 * examples, minibatch `M = 35`, full-eval period `m = 5`).
 *
 * @throws {OptimizerError} for negative sizes or `fullEvalSteps < 1`.
 */
export function autoBudget(
  numPredictors: number,
  numCandidates: number,
  valsetSize: number,
  minibatchSize = 35,
  fullEvalSteps = 5,
): number {
  const numTrials = Math.trunc(Math.max(2 * (numPredictors * 2) * Math.log2(numCandidates), 1.5 * numCandidates));
  if (numTrials < 0 || valsetSize < 0 || minibatchSize < 0) {
    throw new OptimizerError('num_trials, valset_size, and minibatch_size must be >= 0.');
  }
  if (fullEvalSteps < 1) throw new OptimizerError('full_eval_steps must be >= 1.');
  let total = valsetSize + numCandidates * 5 + numTrials * minibatchSize;
  if (numTrials === 0) return total;
  const periodicFulls = Math.floor((numTrials + 1) / fullEvalSteps) + 1;
  const extraFinal = numTrials < fullEvalSteps ? 1 : 0;
  total += (periodicFulls + extraFinal) * valsetSize;
  return total;
}

/** The three ways to give GEPA a budget; exactly one must be set. */
export interface GEPABudgetOptions {
  /** A preset: the budget follows {@link autoBudget}. */
  auto?: GEPAAuto | undefined;
  /** Full passes over train + val: `maxFullEvals × (|trainset| + |valset|)` metric calls. */
  maxFullEvals?: number | undefined;
  /** Metric calls (program runs scored by the metric). */
  maxMetricCalls?: number | undefined;
}

/**
 * The metric-call budget of a compile, as DSPy's `GEPA.compile` computes it. `valsetSize` is `undefined` when no
 * valset was given: `auto` then sizes the budget on the trainset (which GEPA validates on), and `maxFullEvals`
 * counts the trainset once, as upstream does.
 */
export function resolveBudget(
  options: GEPABudgetOptions,
  numPredictors: number,
  trainsetSize: number,
  valsetSize: number | undefined,
): number {
  if (options.auto !== undefined) {
    return autoBudget(numPredictors, GEPA_AUTO_RUN_SETTINGS[options.auto].n, valsetSize ?? trainsetSize);
  }
  if (options.maxFullEvals !== undefined) return options.maxFullEvals * (trainsetSize + (valsetSize ?? 0));
  return options.maxMetricCalls as number;
}

/**
 * Metric calls of the smallest useful run: the seed program's valset evaluation (`valsetSize`), then one reflective
 * iteration — a minibatch of `minibatchSize` training examples run with traces, and the proposed child scored on
 * the same minibatch.
 */
export function minimumUsefulBudget(valsetSize: number, minibatchSize: number): number {
  return valsetSize + 2 * minibatchSize;
}

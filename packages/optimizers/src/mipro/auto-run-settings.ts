/** An `auto` budget of {@link MIPROv2}. */
export type AutoRunMode = 'light' | 'medium' | 'heavy';

/**
 * DSPy's `AUTO_RUN_SETTINGS`: `n` candidates (demo sets, and instructions for zero-shot programs; half as many
 * instructions otherwise) and the validation-set size for each budget.
 */
export const AUTO_RUN_SETTINGS: Readonly<Record<AutoRunMode, { readonly n: number; readonly valSize: number }>> =
  Object.freeze({
    light: Object.freeze({ n: 6, valSize: 100 }),
    medium: Object.freeze({ n: 12, valSize: 300 }),
    heavy: Object.freeze({ n: 18, valSize: 1000 }),
  });

/** Validation sets larger than this are searched on minibatches under `auto` (DSPy's `MIN_MINIBATCH_SIZE`). */
export const MIN_MINIBATCH_SIZE = 50;

/**
 * DSPy's trial count for `numCandidates` candidates: `int(max(2 · V · log2(n), 1.5 · n))`, where `V` is the
 * number of predictors, doubled when demos are searched too (one instruction and one demo variable each). One
 * predictor with demos at `light` (n = 6) gives 10.
 */
export function numTrialsFromNumCandidates(numPredictors: number, zeroShot: boolean, numCandidates: number): number {
  const vars = numPredictors * (zeroShot ? 1 : 2);
  return Math.trunc(Math.max(2 * vars * Math.log2(numCandidates), 1.5 * numCandidates));
}

/** Full evaluations a minibatch search makes: one after every `steps` trials and one after the last. */
export function fullEvalCount(numTrials: number, steps: number): number {
  if (numTrials <= 0) return 0;
  return Math.floor(numTrials / steps) + (numTrials % steps === 0 ? 0 : 1);
}

/**
 * BetterTogether (DSPy's `dspy.BetterTogether`): alternates prompt optimization and weight fine-tuning along a
 * strategy such as `p -> w -> p`, keeping the best program on a valset.
 *
 * @module
 */
export {
  BetterTogether,
  type BetterTogetherCandidate,
  type BetterTogetherCompiled,
  type BetterTogetherCompileOptions,
  type BetterTogetherOptions,
  STRATEGY_SEPARATOR,
} from './better-together.ts';

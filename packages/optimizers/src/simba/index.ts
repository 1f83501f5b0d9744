/**
 * SIMBA (Stochastic Introspective Mini-Batch Ascent): minibatch self-improvement by appending demos and LM-written
 * rules.
 *
 * @module
 */
export {
  percentile,
  SIMBA,
  type SIMBACompiled,
  type SIMBACompileOptions,
  type SIMBAOptions,
  type SIMBAResult,
  type SIMBATrialLog,
} from './simba.ts';
export {
  appendADemo,
  appendARule,
  inspectModules,
  OfferFeedback,
  offerFeedback,
  type SimbaRun,
  type StrategyContext,
  type StrategyOutcome,
  type TrajectoryStep,
} from './simba-strategies.ts';

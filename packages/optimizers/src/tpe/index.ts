/**
 * A dependency-free Tree-structured Parzen Estimator over categorical parameters (Optuna's `TPESampler` with
 * `multivariate=True`), the search behind MIPROv2.
 *
 * @module
 */
export {
  type CategoricalChoice,
  type CategoricalSpace,
  defaultGamma,
  defaultWeights,
  type TPEParams,
  TPESampler,
  type TPESamplerOptions,
  type TPETrial,
  type TPETrialState,
} from './tpe-sampler.ts';

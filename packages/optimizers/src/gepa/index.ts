/**
 * GEPA (reflective prompt evolution, DSPy's `dspy.GEPA`) and its building blocks: the auto budget, Pareto-front
 * parent selection, lineage merging, the epoch-shuffled minibatch sampler, and GEPA's instruction-proposal prompt.
 *
 * @module
 */
export { EpochShuffledBatchSampler } from './batch-sampler.ts';
export {
  autoBudget,
  GEPA_AUTO_RUN_SETTINGS,
  type GEPAAuto,
  type GEPABudgetOptions,
  minimumUsefulBudget,
  resolveBudget,
} from './budget.ts';
export {
  type ComponentSelectorState,
  GEPA,
  type GEPACompiled,
  type GEPACompileOptions,
  type GEPAComponentSelector,
  type GEPADetailedResults,
  type GEPAMetric,
  type GEPAMetricValue,
  type GEPAOptions,
} from './gepa.ts';
export {
  extractInstruction,
  formatReflectiveRecords,
  INSTRUCTION_PROPOSAL_PROMPT,
  type ReflectiveRecord,
  renderInstructionProposalPrompt,
} from './instruction-proposal.ts';
export {
  findCommonAncestorPair,
  type GEPACandidate,
  type MergeHistory,
  type MergePool,
  type MergeProposal,
  proposeMerge,
  selectMergeSubsample,
} from './merge.ts';
export {
  type Chooser,
  findDominatorPrograms,
  idxmax,
  paretoFrequencies,
  paretoFronts,
  removeDominatedPrograms,
  selectParetoCandidate,
} from './pareto.ts';

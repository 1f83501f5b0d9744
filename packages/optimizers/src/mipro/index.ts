/**
 * MIPROv2: joint instruction and demo optimization with a grounded instruction proposer and a TPE search.
 *
 * @module
 */
export {
  AUTO_RUN_SETTINGS,
  type AutoRunMode,
  fullEvalCount,
  MIN_MINIBATCH_SIZE,
  numTrialsFromNumCandidates,
} from './auto-run-settings.ts';
export { createDatasetSummary, datasetSummaryCalls, MAX_OBSERVATION_CALLS } from './dataset-summary.ts';
export {
  createNFewshotDemoSets,
  type DemoSetPlan,
  type DemoSetPlanOptions,
  type DemoSetsOptions,
  planDemoSets,
} from './demo-candidates.ts';
export {
  GroundedProposer,
  type GroundedProposerOptions,
  type InstructionProposal,
} from './grounded-proposer.ts';
export {
  type MIPROCandidate,
  type MIPROTrialLog,
  MIPROv2,
  type MIPROv2Compiled,
  type MIPROv2CompileOptions,
  type MIPROv2Options,
  type MIPROv2Result,
} from './mipro-v2.ts';
export {
  createExampleString,
  examplesRepr,
  isAugmented,
  moduleCode,
  orderInputKeysInString,
  programSourceCode,
  stripPrefix,
} from './proposal-text.ts';
export {
  DatasetDescriptor,
  DatasetDescriptorWithPriorObservations,
  DescribeModule,
  DescribeProgram,
  generateInstructionSignature,
  type InstructionSignatureFlags,
  ObservationSummarizer,
  TIPS,
  type TipName,
} from './proposer-signatures.ts';

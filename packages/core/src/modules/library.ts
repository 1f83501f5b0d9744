/**
 * The module library: DSPy's built-in programs (ChainOfThought, ReAct, ProgramOfThought, MultiChainComparison,
 * BestOfN, Refine, Parallel, majority, Retrieve), tools, and the JavaScript sandbox used by ProgramOfThought.
 *
 * @module
 */

export {
  runInSandbox,
  type SandboxErrorKind,
  type SandboxOptions,
  type SandboxResult,
} from '../sandbox/run-in-sandbox.ts';
export { BestOfN, type BestOfNOptions, type RewardFn } from './best-of-n.ts';
export { ChainOfThought, type ChainOfThoughtConfig, REASONING_PREFIX } from './chain-of-thought.ts';
export { formatErrorForLm } from './format-error.ts';
export { type JsonSchema, validateJsonSchema } from './json-schema-validate.ts';
export { type MajorityOptions, majority } from './majority.ts';
export {
  type ComparedCompletion,
  MultiChainComparison,
  type MultiChainComparisonConfig,
  type MultiChainComparisonInputs,
} from './multi-chain-comparison.ts';
export { NativeToolCallAdapter } from './native-tool-call-adapter.ts';
export { OfferFeedback } from './offer-feedback.ts';
export {
  PARALLEL_CANCELLED_MESSAGE,
  Parallel,
  type ParallelOptions,
  type ParallelOutcome,
  type ParallelPair,
  type ParallelTarget,
} from './parallel.ts';
export {
  ProgramOfThought,
  type ProgramOfThoughtCallOptions,
  type ProgramOfThoughtOptions,
  parseCode,
} from './program-of-thought.ts';
export { ReAct, type ReActCallOptions, type ReActOptions, type ReActOutputs } from './react.ts';
export { inspectModules, Refine, type RefineOptions } from './refine.ts';
export { Retrieve, type RetrieveCallOptions } from './retrieve.ts';
export { Tool, type ToolContext, type ToolFunction, type ToolOptions } from './tool.ts';

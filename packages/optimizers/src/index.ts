/**
 * `@dspy-ts/optimizers`: DSPy's optimizers (teleprompters) — LabeledFewShot, BootstrapFewShot,
 * BootstrapFewShotWithRandomSearch, KNNFewShot, Ensemble, COPRO, InferRules — that report what they spend
 * (`compileReport.stats`), project it beforehand (`estimate`), show progress, and resume from a checkpoint.
 *
 * @example
 * ```ts
 * import { BootstrapFewShotWithRandomSearch } from '@dspy-ts/optimizers';
 *
 * const optimizer = new BootstrapFewShotWithRandomSearch({ metric, numCandidatePrograms: 8 });
 * console.log(optimizer.estimate(program, { trainset, valset }).maxLmCalls);
 * const compiled = await optimizer.compile(program, { trainset, valset, checkpoint: 'rs.ckpt.json' });
 * console.log(compiled.compileReport.score, compiled.compileReport.stats);
 * await compiled.save('compiled.json');
 * ```
 *
 * @module
 */
export {
  BootstrapFewShot,
  type BootstrapConfig,
  type BootstrapFewShotOptions,
} from './bootstrap-few-shot.ts';
export {
  BootstrapFewShotWithRandomSearch,
  type BootstrapFewShotWithRandomSearchOptions,
  BootstrapRS,
  type RandomSearchCompileOptions,
} from './bootstrap-few-shot-with-random-search.ts';
export { CompileContext } from './compile-context.ts';
export { CHECKPOINT_FORMAT, type CheckpointFile, type JournalEntry } from './checkpoint.ts';
export { addStats, type CompileStats, emptyStats, type ModelStats } from './compile-stats.ts';
export { COPRO, type COPROOptions } from './copro.ts';
export { BasicGenerateInstruction, GenerateInstructionGivenAttempts } from './copro-signatures.ts';
export { EnsembledProgram, Ensemble, type EnsembleOptions } from './ensemble.ts';
export { formatRuleExamples, InferRules, type InferRulesOptions, rulesInductionSignature } from './infer-rules.ts';
export { KNN } from './knn.ts';
export { KNNFewShot, type KNNFewShotCompileOptions } from './knn-few-shot.ts';
export { LabeledFewShot, type LabeledFewShotCompileOptions, type LabeledFewShotOptions } from './labeled-few-shot.ts';
export { OptimizerError } from './optimizer-error.ts';
export type {
  OptimizerPhase,
  OptimizerProgressEvent,
  ProgressOptions,
  ProgressStream,
} from './progress.ts';
export { SeededRandom } from './random.ts';
export {
  type CandidateProgram,
  type CompileEstimate,
  type CompileOptions,
  type CompileOutcome,
  type CompileReport,
  type Compiled,
  type EstimateOptions,
  type EstimateStep,
  getCompileReport,
  Teleprompter,
} from './teleprompter.ts';

// Instruction and demo search
export * from './mipro/index.ts';
export * from './simba/index.ts';
export * from './tpe/index.ts';

// Reflective evolution, fine-tuning and their combination
export * from './better-together/index.ts';
export * from './finetune/index.ts';
export * from './gepa/index.ts';

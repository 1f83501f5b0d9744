/**
 * Training for `@dspy-ts/smt`: full fine-tuning, LoRA, DoRA and Sparse Matrix Tuning of LLaMA-architecture
 * models behind {@link finetune}, with the training graph (forward with saved activations and a hand-written
 * backward on the kernel backends), SMT block selection, memory accounting, checkpoints and export.
 *
 * @example
 * ```ts
 * import { chatRecordsToExamples, exportLlama2c, finetune } from '@dspy-ts/smt';
 *
 * const examples = chatRecordsToExamples(records, model.tokenizer);
 * const result = await finetune(model, examples, { method: 'smt', steps: 100, lr: 1e-3 });
 * await writeFile('tuned.bin', exportLlama2c(result));
 * ```
 *
 * @module
 */

export {
  type ExportableModel,
  exportLlama2c,
  exportSafetensors,
  huggingFaceConfig,
  saveHuggingFace,
  saveLlama2c,
} from './export-weights.ts';
export {
  cloneWeights,
  type FinetuneMethod,
  type FinetuneResult,
  type FinetuneSource,
  finetune,
  type LoraOptions,
  type SmtOptions,
  type SmtReport,
  TrainingDivergedError,
  type TrainingDivergedErrorOptions,
  type TrainingProgressEvent,
  type TrainingRunOptions,
  weightEntries,
} from './finetune.ts';
export {
  adaptedWeight,
  createLoraAdapter,
  doraRowScale,
  type LoraAdapter,
  mergeLoraAdapter,
  rowNorms,
} from './lora-adapter.ts';
export { type LrSchedule, learningRate } from './lr-schedule.ts';
export { type RandomLlamaOptions, randomLlamaWeights } from './random-llama.ts';
export {
  blockScoreGrid,
  groupBudget,
  type SmtCandidate,
  type SmtGroup,
  type SmtMatrixSelection,
  type SmtScore,
  selectBlocks,
  selectionSummary,
} from './smt-selection.ts';
export {
  loadTrainingCheckpoint,
  saveTrainingCheckpoint,
  TRAINING_CHECKPOINT_FORMAT,
  type TrainingCheckpoint,
  writeFileAtomic,
} from './training-checkpoint.ts';
export {
  batchIndices,
  type ChatExampleOptions,
  chatRecordsToExamples,
  chatRecordToExample,
  type PreparedExample,
  prepareExamples,
  stackBatch,
  type TrainingExample,
} from './training-data.ts';
export {
  type ActivationParts,
  type CheckpointingMode,
  frozenPlan,
  type GradientPlan,
  type GraphRunResult,
  type LayerPlan,
  type LinearMode,
  MATRIX_NAMES,
  type MatrixName,
  type TrainingBatch,
  TrainingGraph,
  type TrainingGraphOptions,
} from './training-graph.ts';
export {
  type MeasuredMemory,
  PeakMemorySampler,
  stateBytes,
  type TrainingMemoryReport,
  type TrainingStateBytes,
} from './training-memory.ts';

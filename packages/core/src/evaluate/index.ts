/**
 * Evaluation: run a program over a devset and score it (DSPy's `dspy.Evaluate`), plus DSPy's built-in metrics.
 *
 * @module
 */
export { csvCellText, csvField, toCsv } from './csv.ts';
export {
  Evaluate,
  type EvaluateCallOptions,
  type EvaluateLogger,
  type EvaluateOptions,
  type EvaluateProgram,
  type EvaluationItem,
  EvaluationResult,
  EXECUTION_CANCELLED_MESSAGE,
  type Metric,
  type MetricValue,
  metricScore,
} from './evaluate.ts';
export {
  type AnswerExactMatchOptions,
  answerExactMatch,
  answerPassageMatch,
  exactMatch,
  exactMatchScore,
  type FieldSource,
  f1,
  f1Score,
  hotpotF1,
  hotpotF1Score,
  normalizeText,
  passageHasAnswers,
} from './metrics.ts';
export {
  createProgressDisplay,
  type EvaluateProgress,
  type ProgressDisplay,
  type ProgressStream,
  progressDescription,
  progressSnapshot,
} from './progress.ts';
export { pythonNumberText, pythonRound } from './python-number.ts';
export {
  formatMetricCell,
  formatResultTable,
  mergeExampleAndPrediction,
  resultRows,
  truncateCell,
} from './result-table.ts';
export {
  clampedF1,
  DECOMPOSITIONAL_SEMANTIC_RECALL_PRECISION,
  SEMANTIC_RECALL_PRECISION,
  SemanticF1,
  type SemanticF1Inputs,
  type SemanticF1Options,
} from './semantic-f1.ts';

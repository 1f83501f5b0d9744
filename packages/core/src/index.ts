/**
 * `@dspy-ts/core`: declarative signatures, adapters byte-compatible with DSPy 3.3.1, modules, settings,
 * DSPy-compatible save/load, and the shared interfaces (LM, Retriever, Embedder, Finetuner) every other dspy-ts
 * package implements.
 *
 * @example
 * ```ts
 * import { configure, Predict, Signature } from '@dspy-ts/core';
 *
 * configure({ lm });
 * const qa = new Predict(Signature.parse('question: str -> answer: str'));
 * const { answer } = await qa.call({ question: 'What is the capital of France?' });
 * ```
 *
 * @module
 */

// Adapters
export * from './adapters/index.ts';
// Errors
export {
  AdapterParseError,
  type AdapterParseErrorDetails,
  ConfigurationError,
  DspyError,
  type DspyErrorCode,
  type DspyErrorOptions,
  LMError,
  type LMErrorKind,
  SignatureError,
  StateError,
} from './errors.ts';
// LM calls, history and usage
export { callLM } from './lm/call.ts';
export {
  clearHistory,
  formatHistory,
  globalLMHistory,
  type HistoryEntry,
  type InspectHistoryOptions,
  inspectHistory,
  inspectLMHistory,
  lmHistory,
} from './lm/history.ts';
export * from './lm/interfaces.ts';
// Shared interfaces
export * from './lm/spec.ts';
export { addUsage, trackUsage, type UsageByModel, UsageTracker } from './lm/usage.ts';
// Modules and state
export { Module, type ModuleCallOptions } from './modules/module.ts';
export { isParameter, PARAMETER, type Parameter } from './modules/parameter.ts';
export {
  type Demo,
  Predict,
  type PredictCallOptions,
  type PredictConfig,
  type PredictParsedState,
} from './modules/predict.ts';
// Primitives
export { Completions, type CompletionsConstructor } from './primitives/completions.ts';
export { Example, type ExampleAttributes, type ExampleConstructor } from './primitives/example.ts';
export { History } from './primitives/history.ts';
export { type LMUsageByModel, Prediction, type PredictionConstructor } from './primitives/prediction.ts';
// Settings and callbacks
export { type Callback, type CallbackHook, fireCallbacks } from './settings/callbacks.ts';
export {
  configure,
  context,
  currentSettings,
  DEFAULT_SETTINGS,
  getSetting,
  type Settings,
  settings,
  type TraceEntry,
} from './settings/settings.ts';
// Signatures and types
export { type Field, fieldsEqual, inferPrefix } from './signature/field.ts';
export type {
  InferFieldsText,
  InferInputs,
  InferOutputs,
  ParseTypeText,
} from './signature/infer-signature-types.ts';
export {
  createField,
  type FieldInit,
  registerType,
  Signature,
  type SignatureInputs,
  type SignatureOutputs,
  type SignatureParseOptions,
  type SignatureState,
  signature,
  unregisterType,
} from './signature/signature.ts';
export {
  annotationName,
  isOptionalType,
  parseTypeExpression,
  type TypeNode,
  type TypeNodeKind,
  typeJsonSchema,
  typeNodeFromZod,
  typeNodesEqual,
  validateValue,
} from './signature/type-node.ts';
export { zodTypeName } from './signature/type-from-zod.ts';
export { TypeValidationError, type TypeValidationErrorDetails } from './signature/type-validation-error.ts';
export { DSPY_COMPATIBLE_VERSION, DSPY_TS_VERSION, type StateMetadata } from './state/metadata.ts';
export * from './modules/library.ts';
export * from './evaluate/index.ts';
export * from './streaming/index.ts';
export * from './observability/index.ts';

/**
 * Adapters: the wire formats between signatures and language models (DSPy's `dspy.adapters`).
 *
 * @module
 */
export { Adapter, type AdapterOptions, INCOMPLETE_DEMO_PREFIX } from './adapter.ts';
export { ChatAdapter, type ChatAdapterOptions, type FieldWithValue } from './chat-adapter.ts';
export { DelegatingAdapter } from './delegating-adapter.ts';
export { fieldDescriptionString, promptJsonSchema, translateFieldType } from './field-prompt.ts';
export { formatFieldValue, formatNumberedList, pythonJsonDumps, pythonStr } from './format-value.ts';
export { JSONAdapter } from './json-adapter.ts';
export { parseValue } from './parse-value.ts';
export {
  type NumberStyle,
  type NumberStyleHint,
  type PythonJsonDumpsOptions,
  pythonFloatRepr,
  pythonRepr,
} from './python-text.ts';
export { extractionInstructions, extractionSignature, TwoStepAdapter } from './two-step-adapter.ts';
export type {
  AdapterCallResult,
  AssistantMessageOptions,
  ChatMessage,
  SignatureView,
  UserMessageOptions,
} from './types.ts';
export { XMLAdapter } from './xml-adapter.ts';

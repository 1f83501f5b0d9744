import type { ContentPart, LMResponse } from '../lm/spec.ts';
import type { Field } from '../signature/field.ts';
import type { Adapter } from './adapter.ts';

/** One chat message as adapters produce them (OpenAI chat format). */
export interface ChatMessage {
  /** Who speaks. */
  role: 'system' | 'user' | 'assistant';
  /** The text (adapters always produce strings) or content parts. */
  content: string | ContentPart[];
}

/** What {@link Adapter.call} returns. */
export interface AdapterCallResult {
  /** Parsed output values, one record per LM choice. */
  outputs: Record<string, unknown>[];
  /** The LM response the outputs were parsed from. */
  response: LMResponse;
  /** The messages sent to the LM. */
  messages: ChatMessage[];
  /** The adapter that produced `outputs` (a `JSONAdapter` after a fallback). */
  adapter: Adapter;
}

/**
 * The parts of a signature adapters read. Every `Signature` satisfies it; adapters also build lightweight views
 * (a signature without its history field, the two-step extraction signature).
 */
export interface SignatureView {
  /** Task instructions (the docstring, or DSPy's default "Given the fields ..." text). */
  readonly instructions: string;
  /** Input fields in declaration order. */
  readonly inputFields: readonly Field[];
  /** Output fields in declaration order. */
  readonly outputFields: readonly Field[];
  /** `"a, b -> c"`, used in error details. */
  toString(): string;
}

/** Options of {@link Adapter.formatUserMessageContent}. */
export interface UserMessageOptions {
  /** Text placed before the fields (e.g. the incomplete-demo notice). */
  prefix?: string;
  /** Text placed after the fields. */
  suffix?: string;
  /** True for the final request, which appends the output-format requirements. */
  mainRequest?: boolean;
}

/** Options of {@link Adapter.formatAssistantMessageContent}. */
export interface AssistantMessageOptions {
  /** Text rendered for output fields missing from `outputs` (default: Python `None`). */
  missingFieldMessage?: string;
}

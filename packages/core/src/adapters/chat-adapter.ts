import { AdapterParseError, LMError } from '../errors.ts';
import type { LanguageModelV1, LMRequest } from '../lm/spec.ts';
import type { Field } from '../signature/field.ts';
import { Adapter, type AdapterOptions, hasValue } from './adapter.ts';
import { fieldDescriptionString, isHistoryType, outputTypeInfo, translateFieldType } from './field-prompt.ts';
import { formatFieldValue } from './format-value.ts';
import { applyOutputFieldDefaults, parseValue } from './parse-value.ts';
import { pyDedent, pySplitLines, pyStrip } from './python-text.ts';
import { withoutField } from './signature-view.ts';
import type {
  AdapterCallResult,
  AssistantMessageOptions,
  ChatMessage,
  SignatureView,
  UserMessageOptions,
} from './types.ts';

/** Options of {@link ChatAdapter} (and its subclasses). */
export interface ChatAdapterOptions extends AdapterOptions {
  /**
   * Retry a failed call once with a `JSONAdapter` (a second LM call) when formatting or parsing fails. LM errors
   * never trigger the fallback. Default `true`.
   */
  useJsonAdapterFallback?: boolean;
}

/** A field paired with the value to render for it. */
export type FieldWithValue = readonly [field: Field, value: unknown];

// DSPy: re.compile(r"\[\[ ## (\w+) ## \]\]") applied with .match(), i.e. anchored at the start.
const FIELD_HEADER = /^\[\[ ## ([\p{L}\p{N}_]+) ## \]\]/u;

/** The text each field-value pair of DSPy's `ChatAdapter` uses: `[[ ## name ## ]]` then the value. */
export function chatFieldHeader(name: string): string {
  return `[[ ## ${name} ## ]]`;
}

function historyMessages(value: unknown): readonly Record<string, unknown>[] | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const messages = (value as { messages?: unknown }).messages;
  return Array.isArray(messages) ? (messages as Record<string, unknown>[]) : undefined;
}

/**
 * DSPy's default adapter (`dspy/adapters/chat_adapter.py`): fields are delimited by `[[ ## name ## ]]` markers and
 * the assistant ends with `[[ ## completed ## ]]`. Prompts are byte-identical to DSPy 3.3.1.
 *
 * @example
 * const adapter = new ChatAdapter();
 * const messages = adapter.format(Signature.parse('question -> answer'), [], { question: 'Why?' });
 */
export class ChatAdapter extends Adapter {
  /** DSPy class name. */
  readonly name: string = 'ChatAdapter';
  /** Whether a failed call is retried once with a `JSONAdapter`. */
  readonly useJsonAdapterFallback: boolean;

  constructor(options: ChatAdapterOptions = {}) {
    super(options);
    this.useJsonAdapterFallback = options.useJsonAdapterFallback ?? true;
  }

  /**
   * Runs the call; on any failure that is not an `LMError` (a parse error, for example) retries the whole call
   * once with a `JSONAdapter`, unless the fallback is disabled or this adapter already speaks JSON.
   */
  override async call(
    lm: LanguageModelV1,
    request: Omit<LMRequest, 'messages'>,
    signature: SignatureView,
    demos: readonly Record<string, unknown>[],
    inputs: Record<string, unknown>,
  ): Promise<AdapterCallResult> {
    try {
      return await this.runCall(lm, request, signature, demos, inputs);
    } catch (error) {
      if (LMError.isInstance(error) || !this.canFallBackToJson()) throw error;
      // Loaded lazily: json-adapter.ts extends this class, so a static import would form a cycle.
      const { JSONAdapter } = await import('./json-adapter.ts');
      const fallback = new JSONAdapter({ useNativeFunctionCalling: this.useNativeFunctionCalling });
      return fallback.call(lm, request, signature, demos, inputs);
    }
  }

  /** Whether {@link ChatAdapter.call} may retry with a `JSONAdapter` (false for JSON adapters themselves). */
  protected canFallBackToJson(): boolean {
    return this.useJsonAdapterFallback;
  }

  /**
   * DSPy's `Adapter.format`: a system message (field description, structure, task description), demos, the
   * turns of a `History` input (if any), then the current request with the output requirements.
   */
  format(
    signature: SignatureView,
    demos: readonly Record<string, unknown>[],
    inputs: Record<string, unknown>,
  ): ChatMessage[] {
    const inputsCopy: Record<string, unknown> = { ...inputs };
    const historyField = signature.inputFields.find((f) => isHistoryType(f.type));
    const messages: ChatMessage[] = [{ role: 'system', content: this.formatSystemMessage(signature) }];
    messages.push(...this.formatDemos(signature, demos));
    if (historyField) {
      const withoutHistory = withoutField(signature, historyField.name);
      messages.push(...this.formatConversationHistory(withoutHistory, historyField.name, inputsCopy));
      messages.push({
        role: 'user',
        content: this.formatUserMessageContent(withoutHistory, inputsCopy, { mainRequest: true }),
      });
    } else {
      messages.push({
        role: 'user',
        content: this.formatUserMessageContent(signature, inputsCopy, { mainRequest: true }),
      });
    }
    return messages;
  }

  /** `f"{field_description}\n{field_structure}\n{task_description}"`. */
  formatSystemMessage(signature: SignatureView): string {
    return `${this.formatFieldDescription(signature)}\n${this.formatFieldStructure(signature)}\n${this.formatTaskDescription(signature)}`;
  }

  /** "Your input fields are: ... Your output fields are: ..." with one numbered line per field. */
  formatFieldDescription(signature: SignatureView): string {
    return (
      `Your input fields are:\n${fieldDescriptionString(signature.inputFields)}\n` +
      `Your output fields are:\n${fieldDescriptionString(signature.outputFields)}`
    );
  }

  /** The interaction template: every field's marker with its placeholder (and type note), then `completed`. */
  formatFieldStructure(signature: SignatureView): string {
    const placeholders = (fields: readonly Field[]) =>
      this.formatFieldWithValue(fields.map((f) => [f, translateFieldType(f)] as const));
    const parts = [
      'All interactions will be structured in the following way, with the appropriate values filled in.',
      placeholders(signature.inputFields),
      placeholders(signature.outputFields),
      '[[ ## completed ## ]]\n',
    ];
    return pyStrip(parts.join('\n\n'));
  }

  /** "In adhering to this structure, your objective is: " then the dedented instructions, indented by 8. */
  formatTaskDescription(signature: SignatureView): string {
    const lines = pySplitLines(pyDedent(signature.instructions));
    const objective = ['', ...lines].join(`\n${' '.repeat(8)}`);
    return `In adhering to this structure, your objective is: ${objective}`;
  }

  /** Renders `[[ ## name ## ]]\nvalue` blocks joined by blank lines, stripped. */
  formatFieldWithValue(fieldsWithValues: readonly FieldWithValue[]): string {
    const blocks = fieldsWithValues.map(
      ([field, value]) => `${chatFieldHeader(field.name)}\n${formatFieldValue(value, field.type)}`,
    );
    return pyStrip(blocks.join('\n\n'));
  }

  /** DSPy's `format_user_message_content`: prefix, present input fields, requirements (main request), suffix. */
  formatUserMessageContent(
    signature: SignatureView,
    inputs: Record<string, unknown>,
    options: UserMessageOptions = {},
  ): string {
    const parts: string[] = [options.prefix ?? ''];
    for (const field of signature.inputFields) {
      if (!hasValue(inputs, field.name)) continue;
      parts.push(`${chatFieldHeader(field.name)}\n${formatFieldValue(inputs[field.name], field.type)}`);
    }
    if (options.mainRequest) {
      const requirements = this.userMessageOutputRequirements(signature);
      if (requirements !== undefined) parts.push(requirements);
    }
    parts.push(options.suffix ?? '');
    return pyStrip(parts.join('\n\n'));
  }

  /** The reminder of the output format appended to the final user message. */
  userMessageOutputRequirements(signature: SignatureView): string | undefined {
    const fields = signature.outputFields.map((f) => `\`${chatFieldHeader(f.name)}\`${outputTypeInfo(f)}`);
    return (
      `Respond with the corresponding output fields, starting with the field ${fields.join(', then ')}, ` +
      'and then ending with the marker for `[[ ## completed ## ]]`.'
    );
  }

  /** Every output field's block (missing ones as `missingFieldMessage`, default `None`), then `completed`. */
  formatAssistantMessageContent(
    signature: SignatureView,
    outputs: Record<string, unknown>,
    options: AssistantMessageOptions = {},
  ): string {
    const missing = options.missingFieldMessage ?? null;
    const content = this.formatFieldWithValue(
      signature.outputFields.map((f) => [f, hasValue(outputs, f.name) ? outputs[f.name] : missing] as const),
    );
    return `${content}\n\n[[ ## completed ## ]]\n`;
  }

  /**
   * DSPy's `format_conversation_history`: each history message becomes a user turn (its input fields; skipped
   * when it has none) and an assistant turn (its output fields). Removes the history entry from `inputs`.
   */
  formatConversationHistory(
    signature: SignatureView,
    historyFieldName: string,
    inputs: Record<string, unknown>,
  ): ChatMessage[] {
    const history = historyMessages(inputs[historyFieldName]);
    if (history === undefined) return [];
    const messages: ChatMessage[] = [];
    for (const message of history) {
      const user = this.formatUserMessageContent(signature, message);
      if (user) messages.push({ role: 'user', content: user });
      messages.push({ role: 'assistant', content: this.formatAssistantMessageContent(signature, message) });
    }
    delete inputs[historyFieldName];
    return messages;
  }

  /**
   * DSPy's `ChatAdapter.parse`: a line whose stripped text starts with `[[ ## name ## ]]` opens a section (the
   * rest of that line is its first content); the first section of each output field wins; unknown headers and
   * `completed` are ignored; values go through `parse_value`.
   *
   * @throws {AdapterParseError} when a value does not fit its type or a required output field is missing.
   */
  parse(signature: SignatureView, completion: string): Record<string, unknown> {
    const sections: [string | null, string[]][] = [[null, []]];
    for (const line of pySplitLines(completion)) {
      const match = FIELD_HEADER.exec(pyStrip(line));
      if (match) {
        // DSPy slices the unstripped line at the end offset of the match in the stripped line; kept as is.
        const remaining = pyStrip(line.slice(match[0].length));
        sections.push([match[1] ?? '', remaining ? [remaining] : []]);
      } else {
        sections[sections.length - 1]?.[1].push(line);
      }
    }
    const fields: Record<string, unknown> = {};
    for (const [name, lines] of sections) {
      if (name === null || Object.hasOwn(fields, name)) continue;
      const field = signature.outputFields.find((f) => f.name === name);
      if (!field) continue;
      const value = pyStrip(lines.join('\n'));
      try {
        fields[name] = parseValue(value, field.type);
      } catch (error) {
        throw new AdapterParseError({
          adapterName: this.name,
          signature: signature.toString(),
          lmResponse: completion,
          message: `Failed to parse field ${name} with value ${value} from the LM response. Error message: ${errorText(error)}`,
          expectedFields: signature.outputFields.map((f) => f.name),
          cause: error,
        });
      }
    }
    return requireOutputs(this.name, signature, completion, fields);
  }
}

/** `str(e)` of an error as DSPy interpolates it. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Fills defaults for missing output fields, then throws DSPy's "failed to parse" `AdapterParseError` when a
 * required one is still missing. Returns the fields in signature order.
 */
export function requireOutputs(
  adapterName: string,
  signature: SignatureView,
  completion: string,
  parsed: Record<string, unknown>,
): Record<string, unknown> {
  const fields = applyOutputFieldDefaults(signature.outputFields, parsed);
  const missing = signature.outputFields.some((f) => !Object.hasOwn(fields, f.name));
  if (missing) {
    throw new AdapterParseError({
      adapterName,
      signature: signature.toString(),
      lmResponse: completion,
      parsedResult: fields,
      expectedFields: signature.outputFields.map((f) => f.name),
    });
  }
  return Object.fromEntries(signature.outputFields.map((f) => [f.name, fields[f.name]]));
}

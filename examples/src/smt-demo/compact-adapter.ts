/**
 * A compact adapter for very small local models. `ChatAdapter`'s system message (field list, structure
 * template, objective) and its `[[ ## field ## ]]` markers cost several hundred tokens: for stories260K, whose
 * context is 512 tokens, the demo's prompt alone would not fit. This adapter renders one user turn of
 * `Field: value` lines and an assistant turn of `Field: value` lines, with an optional one-line instruction.
 *
 * @module
 */
import { Adapter, AdapterParseError, type ChatMessage, type SignatureView } from '@dspy-ts/core';

/** `story` → `Story`, `final_answer` → `Final answer`. */
function label(name: string): string {
  const spaced = name.replaceAll('_', ' ');
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

function valueText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** Options of {@link CompactAdapter}. */
export interface CompactAdapterOptions {
  /** Put the signature's instructions in a short system turn (default false: tiny models do not follow them). */
  instructions?: boolean;
}

/**
 * Prompt format:
 *
 * ```text
 * <|user|>
 * Story: Tim had a red ball. Tim gave the ball to Sue.
 * Question: Who has the ball now?
 * <|assistant|>
 * Answer: Sue
 * ```
 *
 * The answer line repeats the field's label so that the answer's words are tokenized exactly as they are in the
 * story (with their leading space), which is what lets a small model copy a name it has never been trained on.
 * Parsing reads `Label: value` lines; a single output field also accepts a bare value.
 */
export class CompactAdapter extends Adapter {
  /** Adapter name. */
  readonly name = 'CompactAdapter';
  readonly #instructions: boolean;

  constructor(options: CompactAdapterOptions = {}) {
    super();
    this.#instructions = options.instructions ?? false;
  }

  /** Optional instruction turn, demos as user/assistant pairs, then the request. */
  format(
    signature: SignatureView,
    demos: readonly Record<string, unknown>[],
    inputs: Record<string, unknown>,
  ): ChatMessage[] {
    const messages: ChatMessage[] = [];
    if (this.#instructions) messages.push({ role: 'system', content: signature.instructions });
    messages.push(...this.formatDemos(signature, demos));
    messages.push({ role: 'user', content: this.formatUserMessageContent(signature, inputs) });
    return messages;
  }

  /** One `Label: value` line per input field present. */
  formatUserMessageContent(signature: SignatureView, inputs: Record<string, unknown>): string {
    return signature.inputFields
      .filter((f) => inputs[f.name] !== undefined)
      .map((f) => `${label(f.name)}: ${valueText(inputs[f.name])}`)
      .join('\n');
  }

  /** One `Label: value` line per output field. */
  formatAssistantMessageContent(signature: SignatureView, outputs: Record<string, unknown>): string {
    return signature.outputFields.map((f) => `${label(f.name)}: ${valueText(outputs[f.name])}\n`).join('');
  }

  /**
   * Reads `Label: value` lines (case-insensitive labels; the first occurrence wins).
   *
   * @throws {AdapterParseError} when an output field is missing.
   */
  parse(signature: SignatureView, completion: string): Record<string, unknown> {
    const outputs: Record<string, unknown> = {};
    const lines = completion.split('\n');
    for (const field of signature.outputFields) {
      const prefix = `${label(field.name).toLowerCase()}:`;
      const line = lines.find((l) => l.trim().toLowerCase().startsWith(prefix));
      if (line !== undefined) outputs[field.name] = line.trim().slice(prefix.length).trim();
    }
    if (signature.outputFields.length === 1 && Object.keys(outputs).length === 0 && completion.trim()) {
      outputs[(signature.outputFields[0] as { name: string }).name] = (lines[0] ?? '').trim();
    }
    const missing = signature.outputFields.filter((f) => !(f.name in outputs)).map((f) => f.name);
    if (missing.length > 0) {
      throw new AdapterParseError({
        adapterName: this.name,
        signature: signature.toString(),
        lmResponse: completion,
        parsedResult: outputs,
        expectedFields: signature.outputFields.map((f) => f.name),
      });
    }
    return outputs;
  }
}

import { AdapterParseError, DspyError, LMError } from '../errors.ts';
import { isLanguageModel, type LanguageModelV1 } from '../lm/spec.ts';
import type { Field } from '../signature/field.ts';
import { inferPrefix } from '../signature/field.ts';
import { Adapter, type AdapterOptions, hasValue } from './adapter.ts';
import { ChatAdapter } from './chat-adapter.ts';
import { fieldDescriptionString } from './field-prompt.ts';
import { pyStrip, pythonInterpolate } from './python-text.ts';
import { makeSignatureView } from './signature-view.ts';
import type { AssistantMessageOptions, ChatMessage, SignatureView, UserMessageOptions } from './types.ts';

const TEXT_FIELD: Field = {
  name: 'text',
  kind: 'input',
  type: { kind: 'str' },
  typeUndefined: false,
  desc: '${text}',
  prefix: `${inferPrefix('text')}:`,
  hasDefault: false,
};

/**
 * The instructions of the extraction signature. DSPy writes this f-string with a backslash line continuation
 * *inside* the string literal (`... {outputs_str}. \` + newline + 12 spaces of source indentation + `Your job
 * ...`). Python drops the backslash and the newline but keeps the indentation, so the text has the space
 * before the backslash plus 12 spaces: 13 spaces between the first sentence and "Your job". LMs see exactly
 * that, so it is reproduced here.
 */
export function extractionInstructions(outputFields: readonly Field[]): string {
  const outputs = outputFields.map((f) => `\`${f.name}\``).join(', ');
  return (
    `The input is a text that should contain all the necessary information to produce the fields ${outputs}. ` +
    `${' '.repeat(12)}Your job is to extract the fields from the text verbatim. ` +
    'Extract precisely the appropriate value (content) for each field.'
  );
}

/** DSPy's `_create_extractor_signature`: `text -> <original outputs>` with the extraction instructions. */
export function extractionSignature(signature: SignatureView): SignatureView {
  return makeSignatureView([TEXT_FIELD], signature.outputFields, extractionInstructions(signature.outputFields));
}

/**
 * DSPy's `TwoStepAdapter` (`dspy/adapters/two_step_adapter.py`): the main LM (e.g. a reasoning model) gets a
 * natural prompt without any output format, and a second, usually smaller, extraction LM turns its free-form
 * answer into the output fields through a `ChatAdapter` call on the signature `text -> outputs`.
 *
 * @example
 * const adapter = new TwoStepAdapter(smallLM);
 * const { outputs } = await adapter.call(reasoningLM, {}, Signature.parse('question -> answer'), [], { question });
 */
export class TwoStepAdapter extends Adapter {
  /** DSPy class name. */
  readonly name: string = 'TwoStepAdapter';
  /** The LM that extracts structured fields from the main LM's reply. */
  readonly extractionModel: LanguageModelV1;

  /**
   * @throws {DspyError} (`invalid_argument`) when `extractionModel` does not implement `LanguageModelV1`.
   */
  constructor(extractionModel: LanguageModelV1, options: AdapterOptions = {}) {
    super(options);
    if (!isLanguageModel(extractionModel)) {
      throw new DspyError(
        'invalid_argument',
        'TwoStepAdapter expects an extraction model implementing LanguageModelV1 (specificationVersion "v1" with ' +
          'a generate() method); pass the LM that should extract the output fields.',
      );
    }
    this.extractionModel = extractionModel;
  }

  /** System task description, demos, then the inputs as `name: value` lines. */
  format(
    signature: SignatureView,
    demos: readonly Record<string, unknown>[],
    inputs: Record<string, unknown>,
  ): ChatMessage[] {
    return [
      { role: 'system', content: this.formatTaskDescription(signature) },
      ...this.formatDemos(signature, demos),
      { role: 'user', content: this.formatUserMessageContent(signature, inputs) },
    ];
  }

  /** The natural-language task description for the main LM. */
  formatTaskDescription(signature: SignatureView): string {
    const parts = [
      'You are a helpful assistant that can solve tasks based on user input.',
      `As input, you will be provided with:\n${fieldDescriptionString(signature.inputFields)}`,
      `Your outputs must contain:\n${fieldDescriptionString(signature.outputFields)}`,
      'You should lay out your outputs in detail so that your answer can be understood by another agent',
    ];
    if (signature.instructions) parts.push(`Specific instructions: ${signature.instructions}`);
    return parts.join('\n');
  }

  /** `name: value` for each present input (values as Python `str()`), joined by blank lines. */
  formatUserMessageContent(
    signature: SignatureView,
    inputs: Record<string, unknown>,
    options: UserMessageOptions = {},
  ): string {
    const parts = [options.prefix ?? ''];
    for (const field of signature.inputFields) {
      if (hasValue(inputs, field.name)) parts.push(`${field.name}: ${pythonInterpolate(inputs[field.name])}`);
    }
    parts.push(options.suffix ?? '');
    return pyStrip(parts.join('\n\n'));
  }

  /** `name: value` for each present output, joined by blank lines. */
  formatAssistantMessageContent(
    signature: SignatureView,
    outputs: Record<string, unknown>,
    _options: AssistantMessageOptions = {},
  ): string {
    const parts: string[] = [];
    for (const field of signature.outputFields) {
      if (hasValue(outputs, field.name)) parts.push(`${field.name}: ${pythonInterpolate(outputs[field.name])}`);
    }
    return pyStrip(parts.join('\n\n'));
  }

  /**
   * Always throws: extraction needs an LM call, which cannot happen synchronously. Use
   * {@link TwoStepAdapter.parseAsync} or {@link Adapter.call}.
   *
   * @throws {DspyError} (`invalid_argument`).
   */
  parse(_signature: SignatureView, _completion: string): Record<string, unknown> {
    throw new DspyError(
      'invalid_argument',
      'TwoStepAdapter.parse() needs its extraction LM and therefore cannot run synchronously; ' +
        'use await adapter.parseAsync(signature, completion) or adapter.call(...).',
    );
  }

  /**
   * Extracts the output fields from the main LM's text with a `ChatAdapter` call (JSON fallback included) on the
   * extraction model. LM errors propagate unchanged; any other failure becomes an `AdapterParseError`
   * "Failed to parse response from the original completion: ...".
   */
  override async parseAsync(
    signature: SignatureView,
    completion: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<Record<string, unknown>> {
    const extractor = extractionSignature(signature);
    try {
      const request = options.signal ? { signal: options.signal } : {};
      const result = await new ChatAdapter().call(this.extractionModel, request, extractor, [], { text: completion });
      const first = result.outputs[0];
      if (!first) throw new Error('The extraction LM returned no choices.');
      return first;
    } catch (error) {
      if (LMError.isInstance(error)) throw error;
      throw new AdapterParseError({
        adapterName: this.name,
        signature: signature.toString(),
        lmResponse: completion,
        message: `Failed to parse response from the original completion: ${completion}`,
        expectedFields: signature.outputFields.map((f) => f.name),
        cause: error,
      });
    }
  }
}

import { AdapterParseError, LMError } from '../errors.ts';
import type { LanguageModelV1, LMRequest, LMResponseFormat } from '../lm/spec.ts';
import type { Field } from '../signature/field.ts';
import { hasValue } from './adapter.ts';
import {
  ChatAdapter,
  type ChatAdapterOptions,
  errorText,
  type FieldWithValue,
  requireOutputs,
} from './chat-adapter.ts';
import { isToolCallsType, outputTypeInfo, translateFieldType } from './field-prompt.ts';
import { lenientJsonLoads, parseValue } from './parse-value.ts';
import { isPlainObject, type NumberStyleHint, pyStrip, pythonJsonDumps } from './python-text.ts';
import { structuredOutputSchema } from './structured-output.ts';
import type { AdapterCallResult, AssistantMessageOptions, SignatureView } from './types.ts';
import { numberHintForType } from './value-shape.ts';

/**
 * The first balanced `{...}` span of `text`, by brace counting (DSPy uses the recursive regex
 * `\{(?:[^{}]|(?R))*\}`, which also ignores quoting). Starts are tried left to right.
 */
export function firstBalancedBraces(text: string): string | undefined {
  for (let start = text.indexOf('{'); start !== -1; start = text.indexOf('{', start + 1)) {
    let depth = 0;
    for (let i = start; i < text.length; i++) {
      const ch = text[i];
      if (ch === '{') depth++;
      else if (ch === '}') {
        depth--;
        if (depth === 0) return text.slice(start, i + 1);
      }
    }
  }
  return undefined;
}

function outputsHint(fields: readonly Field[]): NumberStyleHint {
  const byName = new Map(fields.map((f) => [f.name, numberHintForType(f.type)]));
  const auto = numberHintForType(undefined);
  return { style: 'auto', child: (key) => byName.get(String(key)) ?? auto };
}

/**
 * DSPy's `JSONAdapter` (`dspy/adapters/json_adapter.py`): inputs as `[[ ## name ## ]]` blocks, outputs as one
 * JSON object. Uses structured outputs (`responseFormat: json_schema`) or JSON mode when the LM supports them.
 * Native function calling is on by default, as in DSPy.
 */
export class JSONAdapter extends ChatAdapter {
  /** DSPy class name. */
  override readonly name: string = 'JSONAdapter';

  constructor(options: ChatAdapterOptions = {}) {
    super({ ...options, useNativeFunctionCalling: options.useNativeFunctionCalling ?? true });
  }

  protected override canFallBackToJson(): boolean {
    return false;
  }

  /**
   * Chooses the response format from the LM's capabilities: none → a plain call; an open-ended `dict` output,
   * a text-parsed `ToolCalls` output or JSON mode only → `{ type: 'json' }`; otherwise structured outputs with a
   * strict schema, retried in JSON mode if that call fails for any reason other than an `LMError`.
   */
  override async call(
    lm: LanguageModelV1,
    request: Omit<LMRequest, 'messages'>,
    signature: SignatureView,
    demos: readonly Record<string, unknown>[],
    inputs: Record<string, unknown>,
  ): Promise<AdapterCallResult> {
    const caps = lm.capabilities ?? {};
    if (!caps.structuredOutputs && !caps.jsonMode) return this.runCall(lm, request, signature, demos, inputs);
    const jsonMode: LMResponseFormat = { type: 'json' };
    const hasOpenDict = signature.outputFields.some((f) => f.type.kind === 'dict');
    const textToolCalls = !this.useNativeFunctionCalling && signature.outputFields.some((f) => isToolCallsType(f.type));
    if (hasOpenDict || textToolCalls || !caps.structuredOutputs) {
      return this.runCall(lm, { ...request, responseFormat: jsonMode }, signature, demos, inputs);
    }
    try {
      const schema = structuredOutputSchema(signature.outputFields, this.useNativeFunctionCalling);
      const responseFormat: LMResponseFormat = { type: 'json_schema', name: 'DSPyProgramOutputs', schema };
      return await this.runCall(lm, { ...request, responseFormat }, signature, demos, inputs);
    } catch (error) {
      if (LMError.isInstance(error)) throw error;
      return this.runCall(lm, { ...request, responseFormat: jsonMode }, signature, demos, inputs);
    }
  }

  /** Input blocks as in `ChatAdapter`, then the JSON object of output placeholders. */
  override formatFieldStructure(signature: SignatureView): string {
    const parts = [
      'All interactions will be structured in the following way, with the appropriate values filled in.',
      'Inputs will have the following structure:',
      this.formatFieldWithValue(signature.inputFields.map((f) => [f, translateFieldType(f)] as const)),
      'Outputs will be a JSON object with the following fields.',
      this.formatOutputObject(signature.outputFields.map((f) => [f, translateFieldType(f)] as const)),
    ];
    return pyStrip(parts.join('\n\n'));
  }

  /** "Respond with a JSON object in the following order of fields: `a`, then `b` (must be ...)." */
  override userMessageOutputRequirements(signature: SignatureView): string {
    const fields = signature.outputFields.map((f) => `\`${f.name}\`${outputTypeInfo(f)}`);
    return `Respond with a JSON object in the following order of fields: ${fields.join(', then ')}.`;
  }

  /** `json.dumps({field: value}, indent=2, ensure_ascii=False)` over every output field (no completed marker). */
  override formatAssistantMessageContent(
    signature: SignatureView,
    outputs: Record<string, unknown>,
    options: AssistantMessageOptions = {},
  ): string {
    const missing = options.missingFieldMessage ?? null;
    return this.formatOutputObject(
      signature.outputFields.map((f) => [f, hasValue(outputs, f.name) ? outputs[f.name] : missing] as const),
    );
  }

  /** Output fields and values as an indented JSON object, numbers printed per each field's type. */
  formatOutputObject(fieldsWithValues: readonly FieldWithValue[]): string {
    const record = Object.fromEntries(fieldsWithValues.map(([f, v]) => [f.name, v]));
    const hint = outputsHint(fieldsWithValues.map(([f]) => f));
    return pythonJsonDumps(record, { indent: 2, ensureAscii: false, numbers: hint });
  }

  /**
   * DSPy's `JSONAdapter.parse`: lenient JSON; if that is not an object, the first balanced `{...}` is tried;
   * keys other than output fields are dropped; values go through `parse_value`; defaults fill optional outputs.
   *
   * @throws {AdapterParseError} "LM response cannot be serialized to a JSON object." or a missing/invalid field.
   */
  override parse(signature: SignatureView, completion: string): Record<string, unknown> {
    let text = completion;
    let loaded = lenientJsonLoads(text);
    if (!loaded.ok || !isPlainObject(loaded.value)) {
      const braces = firstBalancedBraces(text);
      if (braces !== undefined) {
        text = braces;
        loaded = lenientJsonLoads(text);
      }
    }
    if (!loaded.ok || !isPlainObject(loaded.value)) {
      throw new AdapterParseError({
        adapterName: this.name,
        signature: signature.toString(),
        lmResponse: text,
        message: 'LM response cannot be serialized to a JSON object.',
        expectedFields: signature.outputFields.map((f) => f.name),
      });
    }
    const raw = loaded.value;
    const fields: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(raw)) {
      const field = signature.outputFields.find((f) => f.name === key);
      if (!field) continue;
      try {
        fields[key] = parseValue(value, field.type);
      } catch (error) {
        throw new AdapterParseError({
          adapterName: this.name,
          signature: signature.toString(),
          lmResponse: text,
          message: `Failed to parse field ${key} with value ${typeof value === 'string' ? value : pythonJsonDumps(value)} from the LM response. Error message: ${errorText(error)}`,
          expectedFields: signature.outputFields.map((f) => f.name),
          cause: error,
        });
      }
    }
    return requireOutputs(this.name, signature, text, fields);
  }
}

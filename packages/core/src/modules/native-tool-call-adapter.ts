import type { Adapter } from '../adapters/adapter.ts';
import { DelegatingAdapter } from '../adapters/delegating-adapter.ts';
import { makeSignatureView } from '../adapters/signature-view.ts';
import type { AdapterCallResult, SignatureView } from '../adapters/types.ts';
import { AdapterParseError } from '../errors.ts';
import { callLM } from '../lm/call.ts';
import type { LanguageModelV1, LMChoice, LMMessage, LMRequest } from '../lm/spec.ts';

/** Names of the ReAct step fields the LM fills through a native tool call. */
const TOOL_NAME_FIELD = 'next_tool_name';
const TOOL_ARGS_FIELD = 'next_tool_args';

/**
 * Runs ReAct's `react` step with the provider's native tool calling: the text part of the reply carries only
 * `next_thought` (formatted by the wrapped adapter), `request.tools` is sent, and the first tool call of each
 * choice becomes `next_tool_name` / `next_tool_args`. The predictor's signature and saved state are unchanged.
 */
export class NativeToolCallAdapter extends DelegatingAdapter {
  /** @param base The adapter that formats the messages and parses `next_thought`. */
  constructor(base: Adapter) {
    super(base, true);
  }

  override async call(
    lm: LanguageModelV1,
    request: Omit<LMRequest, 'messages'>,
    signature: SignatureView,
    demos: readonly Record<string, unknown>[],
    inputs: Record<string, unknown>,
  ): Promise<AdapterCallResult> {
    const textOutputs = signature.outputFields.filter((f) => f.name !== TOOL_NAME_FIELD && f.name !== TOOL_ARGS_FIELD);
    const view = makeSignatureView(signature.inputFields, textOutputs, signature.instructions);
    const messages = this.base.format(view, demos, inputs);
    const lmMessages: LMMessage[] = messages.map((m) => ({ role: m.role, content: m.content }) as LMMessage);
    const response = await callLM(lm, { ...request, messages: lmMessages });
    const outputs = response.choices.map((choice) => this.parseChoice(signature, view, choice));
    return { outputs, response, messages, adapter: this };
  }

  private parseChoice(original: SignatureView, view: SignatureView, choice: LMChoice): Record<string, unknown> {
    const call = choice.toolCalls?.[0];
    if (call === undefined) {
      throw new AdapterParseError({
        adapterName: this.name,
        signature: original.toString(),
        lmResponse: choice.text ?? '',
        message: 'Expected the LM to call one of the tools natively, but its response contained no tool call.',
        expectedFields: original.outputFields.map((f) => f.name),
        parsedResult: {},
      });
    }
    const values: Record<string, unknown> = {};
    for (const field of view.outputFields) values[field.name] = null;
    const text = choice.text?.trim() ?? '';
    if (text) {
      try {
        Object.assign(values, this.base.parse(view, text));
      } catch {
        // Models that call tools natively often answer in plain prose; that prose is the thought.
        if (view.outputFields.length === 1) values[(view.outputFields[0] as { name: string }).name] = text;
      }
    } else if (choice.reasoning && view.outputFields.length === 1) {
      values[(view.outputFields[0] as { name: string }).name] = choice.reasoning;
    }
    values[TOOL_NAME_FIELD] = call.name;
    values[TOOL_ARGS_FIELD] = call.args ?? {};
    return values;
  }
}

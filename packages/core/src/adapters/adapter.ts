import { AdapterParseError } from '../errors.ts';
import { callLM } from '../lm/call.ts';
import type { ChatFinetuneRecord } from '../lm/interfaces.ts';
import type { LanguageModelV1, LMChoice, LMMessage, LMRequest } from '../lm/spec.ts';
import { withCallbacks, withCallbacksSync } from '../settings/callbacks.ts';
import type { Field } from '../signature/field.ts';
import { isToolCallsType } from './field-prompt.ts';
import { makeSignatureView } from './signature-view.ts';
import type {
  AdapterCallResult,
  AssistantMessageOptions,
  ChatMessage,
  SignatureView,
  UserMessageOptions,
} from './types.ts';

/** Options shared by every adapter constructor. */
export interface AdapterOptions {
  /**
   * Let a `ToolCalls` output field be filled from the LM's native tool calls (and keep `tools`/`toolChoice`
   * in the request). When false, those request options are removed and tool calls are parsed from text.
   */
  useNativeFunctionCalling?: boolean;
}

/** Notice DSPy puts before the inputs of a demo that lacks some fields. */
export const INCOMPLETE_DEMO_PREFIX =
  'This is an example of the task, though some input or output fields are not supplied.';

/** True when `record` holds a value for `key` (`undefined` counts as absent, `null` as present). */
export function hasValue(record: Record<string, unknown>, key: string): boolean {
  return Object.hasOwn(record, key) && record[key] !== undefined;
}

function contentText(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content;
  return content.map((part) => (part.type === 'text' ? part.text : part.url)).join('');
}

function toLMMessage(message: ChatMessage): LMMessage {
  switch (message.role) {
    case 'assistant':
      return { role: 'assistant', content: message.content };
    case 'system':
      return { role: 'system', content: message.content };
    default:
      return { role: 'user', content: message.content };
  }
}

/** How a signature is split for one call when native tool calling handles a `ToolCalls` output. */
interface CallPlan {
  /** The signature used for formatting and parsing. */
  signature: SignatureView;
  /** The `ToolCalls` output field filled from native tool calls, if any. */
  toolCallsField: Field | undefined;
}

/**
 * The interface between a signature and a language model: renders a signature, demos and inputs into chat
 * messages, calls the LM, and parses every choice back into output values. Mirrors DSPy's `Adapter`
 * (`dspy/adapters/base.py`); subclasses fix the wire format.
 */
export abstract class Adapter {
  /** The DSPy class name: `ChatAdapter`, `JSONAdapter`, `XMLAdapter` or `TwoStepAdapter`. */
  abstract readonly name: string;
  /** Whether native tool calling is used (see {@link AdapterOptions.useNativeFunctionCalling}). */
  readonly useNativeFunctionCalling: boolean;

  constructor(options: AdapterOptions = {}) {
    this.useNativeFunctionCalling = options.useNativeFunctionCalling ?? false;
  }

  /** Renders the full conversation: system message, demos, history turns, and the current request. */
  abstract format(
    signature: SignatureView,
    demos: readonly Record<string, unknown>[],
    inputs: Record<string, unknown>,
  ): ChatMessage[];

  /**
   * Parses one completion into output values.
   *
   * @throws {AdapterParseError} when a field cannot be parsed or a required output is missing.
   */
  abstract parse(signature: SignatureView, completion: string): Record<string, unknown>;

  /** Renders the inputs of one user turn (also used by ReAct to render trajectories). */
  abstract formatUserMessageContent(
    signature: SignatureView,
    inputs: Record<string, unknown>,
    options?: UserMessageOptions,
  ): string;

  /** Renders the outputs of one assistant turn. */
  abstract formatAssistantMessageContent(
    signature: SignatureView,
    outputs: Record<string, unknown>,
    options?: AssistantMessageOptions,
  ): string;

  /**
   * Parses a completion, possibly with further LM calls (`TwoStepAdapter`). The default is {@link Adapter.parse}.
   */
  async parseAsync(
    signature: SignatureView,
    completion: string,
    _options: { signal?: AbortSignal } = {},
  ): Promise<Record<string, unknown>> {
    return this.parse(signature, completion);
  }

  /**
   * DSPy's `format_demos`: complete demos (every field present and not null) and incomplete ones (at least one
   * input and one output present; others are dropped) as user/assistant pairs, incomplete demos first.
   */
  formatDemos(signature: SignatureView, demos: readonly Record<string, unknown>[]): ChatMessage[] {
    const fields = [...signature.inputFields, ...signature.outputFields];
    const complete: Record<string, unknown>[] = [];
    const incomplete: Record<string, unknown>[] = [];
    for (const demo of demos) {
      const isComplete = fields.every((f) => hasValue(demo, f.name) && demo[f.name] !== null);
      const hasInput = signature.inputFields.some((f) => hasValue(demo, f.name));
      const hasOutput = signature.outputFields.some((f) => hasValue(demo, f.name));
      if (isComplete) complete.push(demo);
      else if (hasInput && hasOutput) incomplete.push(demo);
    }
    const messages: ChatMessage[] = [];
    for (const demo of incomplete) {
      messages.push({
        role: 'user',
        content: this.formatUserMessageContent(signature, demo, { prefix: INCOMPLETE_DEMO_PREFIX }),
      });
      messages.push({
        role: 'assistant',
        content: this.formatAssistantMessageContent(signature, demo, {
          missingFieldMessage: 'Not supplied for this particular example. ',
        }),
      });
    }
    for (const demo of complete) {
      messages.push({ role: 'user', content: this.formatUserMessageContent(signature, demo) });
      messages.push({
        role: 'assistant',
        content: this.formatAssistantMessageContent(signature, demo, {
          missingFieldMessage: 'Not supplied for this conversation history message. ',
        }),
      });
    }
    return messages;
  }

  /**
   * Formats, calls the LM through `callLM`, and parses every choice. Empty choices without tool calls raise
   * `AdapterParseError("The LM returned an empty or null response.")`.
   */
  async call(
    lm: LanguageModelV1,
    request: Omit<LMRequest, 'messages'>,
    signature: SignatureView,
    demos: readonly Record<string, unknown>[],
    inputs: Record<string, unknown>,
  ): Promise<AdapterCallResult> {
    return this.runCall(lm, request, signature, demos, inputs);
  }

  /** The shared pipeline behind {@link Adapter.call}, without any adapter-level fallback. */
  protected async runCall(
    lm: LanguageModelV1,
    request: Omit<LMRequest, 'messages'>,
    signature: SignatureView,
    demos: readonly Record<string, unknown>[],
    inputs: Record<string, unknown>,
  ): Promise<AdapterCallResult> {
    const plan = this.planCall(signature);
    const messages = withCallbacksSync('adapterFormat', this, { signature: plan.signature, demos, inputs }, () =>
      this.format(plan.signature, demos, inputs),
    );
    const lmRequest: LMRequest = { ...request, messages: messages.map(toLMMessage) };
    if (!this.useNativeFunctionCalling) {
      delete lmRequest.tools;
      delete lmRequest.toolChoice;
    }
    const response = await callLM(lm, lmRequest);
    const outputs: Record<string, unknown>[] = [];
    for (const choice of response.choices) {
      outputs.push(await this.postprocessChoice(signature, plan, choice, request.signal));
    }
    return { outputs, response, messages, adapter: this };
  }

  private planCall(signature: SignatureView): CallPlan {
    if (!this.useNativeFunctionCalling) return { signature, toolCallsField: undefined };
    const toolCallsField = signature.outputFields.find((f) => isToolCallsType(f.type));
    if (!toolCallsField) return { signature, toolCallsField: undefined };
    const view = makeSignatureView(
      signature.inputFields,
      signature.outputFields.filter((f) => f !== toolCallsField),
      signature.instructions,
    );
    return { signature: view, toolCallsField };
  }

  private async postprocessChoice(
    original: SignatureView,
    plan: CallPlan,
    choice: LMChoice,
    signal: AbortSignal | undefined,
  ): Promise<Record<string, unknown>> {
    const toolCalls = choice.toolCalls ?? [];
    if (!choice.text && toolCalls.length === 0) {
      throw new AdapterParseError({
        adapterName: this.name,
        signature: original.toString(),
        lmResponse: choice.text ?? '',
        message: 'The LM returned an empty or null response.',
        expectedFields: original.outputFields.map((f) => f.name),
      });
    }
    let value: Record<string, unknown>;
    if (choice.text) {
      const completion = choice.text;
      value = await withCallbacks('adapterParse', this, { signature: plan.signature, completion }, () =>
        this.parseAsync(plan.signature, completion, signal ? { signal } : {}),
      );
      for (const field of original.outputFields) if (!Object.hasOwn(value, field.name)) value[field.name] = null;
    } else {
      value = Object.fromEntries(original.outputFields.map((f) => [f.name, null]));
    }
    if (plan.toolCallsField && toolCalls.length > 0) {
      value[plan.toolCallsField.name] = {
        tool_calls: toolCalls.map((call) => ({ name: call.name, args: call.args, id: call.id })),
      };
    }
    return value;
  }

  /**
   * DSPy's `format_finetune_data`: the formatted conversation followed by the assistant turn for `outputs`, in
   * OpenAI's chat fine-tuning format.
   */
  formatFinetuneData(
    signature: SignatureView,
    demos: readonly Record<string, unknown>[],
    inputs: Record<string, unknown>,
    outputs: Record<string, unknown>,
  ): ChatFinetuneRecord {
    const messages = this.format(signature, demos, inputs).map((m) => ({
      role: m.role,
      content: contentText(m.content),
    }));
    messages.push({ role: 'assistant', content: this.formatAssistantMessageContent(signature, outputs) });
    return { messages };
  }
}

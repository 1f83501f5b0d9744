import { Adapter } from './adapter.ts';
import type { AssistantMessageOptions, ChatMessage, SignatureView, UserMessageOptions } from './types.ts';

/**
 * An adapter that wraps another one: formatting and parsing go to the wrapped adapter unchanged, and a subclass
 * overrides `call` to change what one call sends or receives (an extra input field, native tool calls, …). It
 * takes the wrapped adapter's name, so errors and history read as they would without the wrapper.
 */
export abstract class DelegatingAdapter extends Adapter {
  /** The wrapped adapter's name. */
  readonly name: string;

  /**
   * @param base The adapter doing the formatting and parsing.
   * @param useNativeFunctionCalling Whether this wrapper calls tools natively (default: as `base` does).
   */
  protected constructor(
    protected readonly base: Adapter,
    useNativeFunctionCalling = base.useNativeFunctionCalling,
  ) {
    super({ useNativeFunctionCalling });
    this.name = base.name;
  }

  override format(
    signature: SignatureView,
    demos: readonly Record<string, unknown>[],
    inputs: Record<string, unknown>,
  ): ChatMessage[] {
    return this.base.format(signature, demos, inputs);
  }

  override parse(signature: SignatureView, completion: string): Record<string, unknown> {
    return this.base.parse(signature, completion);
  }

  override formatUserMessageContent(
    signature: SignatureView,
    inputs: Record<string, unknown>,
    options?: UserMessageOptions,
  ): string {
    return this.base.formatUserMessageContent(signature, inputs, options);
  }

  override formatAssistantMessageContent(
    signature: SignatureView,
    outputs: Record<string, unknown>,
    options?: AssistantMessageOptions,
  ): string {
    return this.base.formatAssistantMessageContent(signature, outputs, options);
  }
}

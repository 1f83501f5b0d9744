import { Adapter } from '../adapters/adapter.ts';
import { makeSignatureView } from '../adapters/signature-view.ts';
import type {
  AdapterCallResult,
  AssistantMessageOptions,
  ChatMessage,
  SignatureView,
  UserMessageOptions,
} from '../adapters/types.ts';
import type { LanguageModelV1, LMRequest } from '../lm/spec.ts';
import { createField } from '../signature/signature.ts';

const HINT_FIELD = createField('hint_', { kind: 'input', desc: 'A hint to the module from an earlier run' });

/**
 * Refine's wrapper adapter: every call gets an extra input field `hint_` ("A hint to the module from an earlier
 * run") holding the advice for the predictor that owns the signature (`N/A` when there is none), then the wrapped
 * adapter does the work.
 */
export class HintAdapter extends Adapter {
  /** The wrapped adapter's name. */
  readonly name: string;

  /**
   * @param base The adapter doing the formatting and parsing.
   * @param hintFor The advice for a signature (by the predictor that owns it), if any.
   */
  constructor(
    private readonly base: Adapter,
    private readonly hintFor: (signature: SignatureView) => string | undefined,
  ) {
    super({ useNativeFunctionCalling: base.useNativeFunctionCalling });
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

  override call(
    lm: LanguageModelV1,
    request: Omit<LMRequest, 'messages'>,
    signature: SignatureView,
    demos: readonly Record<string, unknown>[],
    inputs: Record<string, unknown>,
  ): Promise<AdapterCallResult> {
    const hinted = { ...inputs, hint_: this.hintFor(signature) ?? 'N/A' };
    const extended = makeSignatureView(
      [...signature.inputFields.filter((f) => f.name !== HINT_FIELD.name), HINT_FIELD],
      signature.outputFields,
      signature.instructions,
    );
    return this.base.call(lm, request, extended, demos, hinted);
  }
}

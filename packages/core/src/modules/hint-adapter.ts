import type { Adapter } from '../adapters/adapter.ts';
import { DelegatingAdapter } from '../adapters/delegating-adapter.ts';
import { makeSignatureView } from '../adapters/signature-view.ts';
import type { AdapterCallResult, SignatureView } from '../adapters/types.ts';
import type { LanguageModelV1, LMRequest } from '../lm/spec.ts';
import { createField } from '../signature/signature.ts';

const HINT_FIELD = createField('hint_', { kind: 'input', desc: 'A hint to the module from an earlier run' });

/**
 * Refine's wrapper adapter: every call gets an extra input field `hint_` ("A hint to the module from an earlier
 * run") holding the advice for the predictor that owns the signature (`N/A` when there is none), then the wrapped
 * adapter does the work.
 */
export class HintAdapter extends DelegatingAdapter {
  /**
   * @param base The adapter doing the formatting and parsing.
   * @param hintFor The advice for a signature (by the predictor that owns it), if any.
   */
  constructor(
    base: Adapter,
    private readonly hintFor: (signature: SignatureView) => string | undefined,
  ) {
    super(base);
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

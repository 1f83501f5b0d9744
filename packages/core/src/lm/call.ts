import type { LanguageModelV1, LMRequest, LMResponse } from './spec.ts';

/**
 * The single path through which core calls a language model. Adapters and modules call this instead of
 * `lm.generate`, so that defaults, history, usage tracking and callbacks apply uniformly.
 */
export async function callLM(lm: LanguageModelV1, request: LMRequest): Promise<LMResponse> {
  return lm.generate(request);
}

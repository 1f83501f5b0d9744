import { context, type LanguageModelV1, Predict, type PredictConfig, type Signature } from '@dspy-ts/core';
import type { CompileContext } from '../compile-context.ts';

/**
 * Runs one `Predict(signature, config)` call on `lm`, outside any trace (proposal calls are not program steps), with
 * the compile's abort signal. Returns the named output fields as strings.
 */
export async function callPromptModel(
  lm: LanguageModelV1,
  signature: Signature,
  inputs: Record<string, unknown>,
  ctx: CompileContext,
  config: PredictConfig = {},
): Promise<Record<string, unknown>> {
  const predictor = new Predict(signature, config);
  const prediction = await context({ lm, trace: null }, () => predictor.call(inputs, { signal: ctx.signal }));
  return prediction.toDict() as Record<string, unknown>;
}

/** The message of an error, for logs. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

import type { SignatureInputs, SignatureOutputs } from '@dspy-ts/core';
import { Predict, Signature } from '@dspy-ts/core';

const triage = Signature.parse(
  "ticket: str, history: list[str] -> queue: Literal['billing', 'tech', 'other'], urgent: bool",
);

// The record types TypeScript infers from the string:
type In = SignatureInputs<typeof triage>; // { ticket: string; history: string[] }
type Out = SignatureOutputs<typeof triage>; // { queue: 'billing' | 'tech' | 'other'; urgent: boolean }

export async function route(input: In): Promise<Out['queue']> {
  const predict = new Predict(triage);
  const { queue, urgent } = await predict.call(input);
  return urgent ? 'tech' : queue;
}

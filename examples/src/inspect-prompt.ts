/**
 * See the exact prompt: declare a signature, run `Predict` against the scripted `DummyLM` (no network, no keys),
 * and print the exact messages that were sent and the prediction that came back.
 *
 * Run it with `npm run inspect-prompt --workspace examples` from the repository root.
 */
import { configure, inspectHistory, Predict, Signature } from '@dspy-ts/core';
import { DummyLM } from '@dspy-ts/core/testing';

const qa = Signature.parse(
  'question: str, context: list[str] -> answer: str, confidence: float',
  'Answer the question using only the context.',
);

// The scripted LM plays the part of a real model: it answers in the ChatAdapter's wire format.
configure({ lm: new DummyLM([{ answer: 'Paris', confidence: 0.93 }]) });

const predict = new Predict(qa);
const prediction = await predict.call({
  question: 'What is the capital of France?',
  context: ['Paris is the capital and largest city of France.', 'France is in Western Europe.'],
});

console.log('=== The exact prompt sent to the LM ===');
inspectHistory(1);
console.log('=== The prediction ===');
console.log(JSON.stringify(prediction.toDict(), null, 2));
console.log(`answer: ${prediction.answer} (confidence ${prediction.confidence})`);

import { ChatAdapter, Example, Signature } from '@dspy-ts/core';

const qa = Signature.parse('context: list[str], question: str -> answer: str, confidence: float');

// One demo, then the current inputs: exactly what Predict sends with the default ChatAdapter.
const demo = new Example({
  context: ['Paris is the capital of France.'],
  question: 'What is the capital of France?',
  answer: 'Paris',
  confidence: 0.95,
});

export const messages = new ChatAdapter().format(qa, [demo.toDict()], {
  context: ['The Eiffel Tower was completed in 1889.'],
  question: 'When was the Eiffel Tower completed?',
});

for (const { role, content } of messages) console.log(`--- ${role}\n${content}`);

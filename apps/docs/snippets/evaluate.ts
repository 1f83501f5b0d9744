import { answerExactMatch, configure, Evaluate, Example, Predict } from '@dspy-ts/core';
import { lm } from '@dspy-ts/lm-adapters';

configure({ lm: lm('openai/gpt-4o-mini') });

// Labeled examples; `withInputs` says which keys the program receives.
const devset = [
  { question: 'What is the capital of France?', answer: 'Paris' },
  { question: 'What is the capital of Japan?', answer: 'Tokyo' },
  { question: 'What is the capital of Australia?', answer: 'Canberra' },
].map((row) => new Example(row).withInputs('question'));

const program = new Predict('question -> answer');

// answerExactMatch compares prediction.answer with example.answer after normalizing
// case, punctuation and articles. Any (example, prediction) => number | boolean works.
const evaluate = new Evaluate({ devset, metric: answerExactMatch, numThreads: 4 });
const result = await evaluate.call(program);

console.log(result.score); // percentage, e.g. 66.67
for (const [example, prediction, score] of result.results) {
  console.log(example.question, '→', prediction.answer, score);
}

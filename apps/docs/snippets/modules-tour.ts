import {
  BestOfN,
  ChainOfThought,
  configure,
  context,
  Predict,
  Prediction,
  Signature,
  StreamResponse,
  streamify,
} from '@dspy-ts/core';
import { lm } from '@dspy-ts/lm-adapters';

const gpt = lm('openai/gpt-4o-mini');
const cheapLM = lm('openai/gpt-4.1-nano');
configure({ lm: gpt });

// #region predict-call
const qa = new Predict(Signature.parse('question -> answer'), { temperature: 0.2 });
const prediction = await qa.call(
  { question: 'What is the capital of France?' },
  { lm: cheapLM, config: { maxTokens: 200 }, signal: AbortSignal.timeout(10_000) },
);
// #endregion predict-call

// #region best-of-n
const oneWord = (_inputs: Record<string, unknown>, pred: Prediction) =>
  String(pred.answer).split(' ').length === 1 ? 1 : 0;
const best = new BestOfN(new ChainOfThought('question -> answer'), { N: 3, rewardFn: oneWord, threshold: 1 });
const short = await best.call({ question: 'What is the capital of Belgium?' });
// #endregion best-of-n

// #region context
const answer = await context({ lm: cheapLM, trackUsage: true }, () =>
  qa.call({ question: 'Who wrote Le Petit Prince?' }),
);
// #endregion context

// #region streamify
const stream = streamify(new ChainOfThought('question -> answer'));
for await (const event of stream({ question: 'Why is the sky blue?' })) {
  if (event instanceof StreamResponse) process.stdout.write(event.chunk);
  else if (event instanceof Prediction) console.log('\n', event.answer);
}
// #endregion streamify

console.log(prediction.answer, short, answer.lmUsage);

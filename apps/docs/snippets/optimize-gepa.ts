import { ChainOfThought, configure, Example, type Prediction } from '@dspy-ts/core';
import { lm } from '@dspy-ts/lm-adapters';
import { GEPA, type GEPAMetric, OptimizerError } from '@dspy-ts/optimizers';

configure({ lm: lm('openai/gpt-4o-mini') });

const rows: [string, string][] = [
  ['The refund arrived twice and nobody answers the phone.', 'negative'],
  ['Setup took two minutes. Love it.', 'positive'],
  ['It works, I guess.', 'neutral'],
  ['The battery died on day one.', 'negative'],
  ['Best purchase this year!', 'positive'],
  ['Delivered on Tuesday as promised.', 'neutral'],
];
const examples = rows.map(([review, sentiment]) => new Example({ review, sentiment }).withInputs('review'));
const [trainset, valset] = [examples.slice(0, 4), examples.slice(4)];
const program = new ChainOfThought('review -> sentiment');

// #region gepa
// A GEPA metric may return feedback with the score: it is what the reflection LM reads.
const metric: GEPAMetric = (example, prediction: Prediction) => {
  const right = prediction.sentiment === example.sentiment;
  return {
    score: right ? 1 : 0,
    feedback: right ? 'Correct.' : `Expected "${example.sentiment}", got "${prediction.sentiment}".`,
  };
};
const reflectionLM = lm('openai/gpt-4o'); // rewrites instructions; a strong model pays off

// Exactly one budget: auto ('light' | 'medium' | 'heavy'), maxFullEvals, or maxMetricCalls.
const light = new GEPA({ metric, reflectionLM, auto: 'light' });
console.log(light.budget(program, trainset, valset)); // 388 metric calls: 2 + 5·6 + 10·35 + 3·2 (see below)

const gepa = new GEPA({ metric, reflectionLM, maxMetricCalls: 20, reflectionMinibatchSize: 2, trackStats: true });
const optimized = await gepa.compile(program, { trainset, valset });
console.log(optimized.predict.signature.instructions); // the best candidate's instruction
console.log(optimized.detailedResults?.totalMetricCalls); // at most the budget plus one last step
// #endregion gepa

// #region too-small
try {
  // 2 to score the seed on the valset + 3 + 3 for one reflective minibatch: 8 needed.
  await new GEPA({ metric, reflectionLM, maxMetricCalls: 6 }).compile(program, { trainset, valset });
} catch (error) {
  if (!OptimizerError.isInstance(error)) throw error;
  console.log(error.message); // GEPA's budget of 6 metric calls is too small to make a single proposal. …
}
// #endregion too-small

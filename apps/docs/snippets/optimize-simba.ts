import { answerExactMatch, configure, Example, Predict } from '@dspy-ts/core';
import { lm } from '@dspy-ts/lm-adapters';
import { SIMBA } from '@dspy-ts/optimizers';

configure({ lm: lm('openai/gpt-4o-mini') });

const trainset = [
  ['Paris', 'France'],
  ['Tokyo', 'Japan'],
  ['Canberra', 'Australia'],
  ['Ottawa', 'Canada'],
  ['Brasília', 'Brazil'],
  ['Nairobi', 'Kenya'],
].map(([answer, country]) =>
  new Example({ question: `What is the capital of ${country}?`, answer }).withInputs('question'),
);
const program = new Predict('question -> answer');

// #region simba
const simba = new SIMBA({
  metric: answerExactMatch,
  bsize: 4, // minibatch size; the trainset must hold at least this many
  numCandidates: 2, // sampled LMs per step, and new candidates per step
  maxSteps: 2,
  maxDemos: 2, // 0 leaves only the appendARule strategy
});

const { maxLmCalls } = simba.estimate(program, { trainset });
console.log(maxLmCalls); // 2·4·2 sampled runs + ≤ 2·3 advice calls + 2·3·4 minibatch runs + 3·6 final runs = 64

const compiled = await simba.compile(program, { trainset, seed: 0 });
console.log(compiled.score, Object.keys(compiled.trialLogs).length); // mean metric on the trainset; 2 steps
// #endregion simba

import { answerExactMatch, ChainOfThought, configure, Example } from '@dspy-ts/core';
import { lm } from '@dspy-ts/lm-adapters';
import { MIPROv2, TPESampler } from '@dspy-ts/optimizers';

configure({ lm: lm('openai/gpt-4o-mini') });

// 20 labeled questions; without a valset, MIPROv2 holds out the last 80 % of the trainset to score on.
const trainset = Array.from({ length: 20 }, (_, i) =>
  new Example({ question: `What is ${i + 3} + ${2 * i}?`, answer: String(3 * i + 3) }).withInputs('question'),
);
const program = new ChainOfThought('question -> answer');

// #region mipro
const mipro = new MIPROv2({
  metric: answerExactMatch,
  promptModel: lm('openai/gpt-4o'), // writes the dataset summary and the instruction candidates
  auto: 'light', // 6 candidates, valset up to 100 examples; 'medium' 12 / 300, 'heavy' 18 / 1000
});

// What it will cost, before anything runs: bootstrapping, proposals, the baseline and every trial.
const estimate = mipro.estimate(program, { trainset });
for (const { step, minLmCalls, maxLmCalls } of estimate.steps) console.log(step, minLmCalls, maxLmCalls);

const compiled = await mipro.compile(program, { trainset });
console.log(compiled.score); // full-valset score of the returned program
console.log(compiled.instructionCandidates[0]?.length, compiled.demoCandidates?.[0]?.length); // 3 6
// #endregion mipro

// #region tpe
// The search behind MIPROv2, usable on its own: categorical parameters, ask for a trial, tell its score.
const sampler = new TPESampler({ instruction: [0, 1, 2], demos: [0, 1, 2, 3, 4, 5] }, { seed: 0 });
for (let i = 0; i < 30; i++) {
  const trial = sampler.ask(); // uniform for the first 10 trials, then TPE
  const { instruction, demos } = trial.params;
  sampler.tell(trial, instruction === 2 && demos === 4 ? 1 : 0.1 * demos);
}
console.log(sampler.bestTrial?.params); // { instruction: 2, demos: 4 }
// #endregion tpe

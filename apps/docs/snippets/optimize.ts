import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answerExactMatch, ChainOfThought, configure, Example, Signature } from '@dspy-ts/core';
import { lm } from '@dspy-ts/lm-adapters';
import { BootstrapFewShot } from '@dspy-ts/optimizers';

configure({ lm: lm('openai/gpt-4o-mini') });

const trainset = [
  { question: 'What is 7 + 5?', answer: '12' },
  { question: 'What is 9 × 3?', answer: '27' },
  { question: 'What is 40 / 8?', answer: '5' },
].map((row) => new Example(row).withInputs('question'));

const program = new ChainOfThought(Signature.parse('question -> answer'));

// Run the program on the trainset, keep the runs the metric accepts, and use them as demos.
const optimizer = new BootstrapFewShot({ metric: answerExactMatch, maxBootstrappedDemos: 2 });
const compiled = await optimizer.compile(program, { trainset });

console.log(compiled.predict.demos.length); // 3: two bootstrapped runs (with reasoning) + one labeled example
console.log(compiled.compileReport.stats); // LM calls, tokens and cost spent compiling
await compiled.save(join(tmpdir(), 'compiled.json')); // DSPy's layout: loads in Python too

/**
 * Compiles a two-step program — `ChainOfThought` extracting the numbers of a question, then `ChainOfThought`
 * answering from them — with `BootstrapFewShotWithRandomSearch`, prints the best score and what the compile spent,
 * and saves the compiled program in DSPy's JSON layout.
 *
 * Works with any LM: pass one to {@link compileRandomSearch} (or `configure({ lm })`). Run directly
 * (`NODE_OPTIONS=--conditions=@dspy-ts/source tsx src/compile-random-search.ts [out.json]`) it uses a scripted LM,
 * so it runs offline.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  ChainOfThought,
  context,
  Example,
  type LanguageModelV1,
  type LMRequest,
  Module,
  type ModuleCallOptions,
  type Prediction,
} from '@dspy-ts/core';
import { ScriptedLM } from '@dspy-ts/core/testing';
import { BootstrapFewShotWithRandomSearch, type CompileStats } from '@dspy-ts/optimizers';

/** Small addition word problems. */
export const ADDITION_SET = [
  ['Ann has 2 apples and buys 3 more. How many apples does she have?', '5'],
  ['A shelf holds 4 books and 7 more are added. How many books are there?', '11'],
  ['Tom ran 5 km on Monday and 6 km on Tuesday. How far did he run?', '11'],
  ['A jar has 9 marbles and 1 more is dropped in. How many marbles are in the jar?', '10'],
  ['There are 3 cats and 8 dogs. How many animals are there?', '11'],
  ['A team scored 7 goals and then 2 goals. How many goals in total?', '9'],
].map(([question, answer]) => new Example({ question, answer }).withInputs('question'));

/** Step one finds the numbers, step two adds them up. */
export class TwoHopArithmetic extends Module<{ question: string }, Prediction> {
  extract = new ChainOfThought('question -> numbers');
  solve = new ChainOfThought('question, numbers -> answer');

  override async forward(inputs: { question: string }, options?: ModuleCallOptions): Promise<Prediction> {
    const { numbers } = await this.extract.call(inputs, options);
    return this.solve.call({ question: inputs.question, numbers }, options);
  }
}

/** Exact match on the answer. */
export function answerMatches(example: Example, prediction: Prediction): boolean {
  return String(prediction.answer).trim() === example.answer;
}

function lastUserText(request: LMRequest): string {
  const content = request.messages.at(-1)?.content ?? '';
  return typeof content === 'string' ? content : content.map((p) => (p.type === 'text' ? p.text : '')).join('');
}

/**
 * A scripted stand-in for a small model: it always finds the numbers, but without demonstrations it answers with the
 * first number instead of the sum — so few-shot candidates beat the zero-shot one.
 */
export function scriptedArithmeticLM(): ScriptedLM {
  return new ScriptedLM(
    (request) => {
      const user = lastUserText(request);
      const field = (name: string) => new RegExp(`\\[\\[ ## ${name} ## \\]\\]\\n([^\\n]*)`).exec(user)?.[1] ?? '';
      const hasDemos = request.messages.some((m) => m.role === 'assistant');
      if (field('numbers') === '') {
        const numbers = field('question').match(/\d+/g) ?? [];
        return `[[ ## reasoning ## ]]\nThe question mentions ${numbers.join(' and ')}.\n\n[[ ## numbers ## ]]\n${numbers.join(', ')}\n\n[[ ## completed ## ]]`;
      }
      const numbers = field('numbers').split(',').map(Number);
      const answer = hasDemos ? numbers.reduce((a, b) => a + b, 0) : numbers[0];
      return `[[ ## reasoning ## ]]\nAdd the numbers.\n\n[[ ## answer ## ]]\n${answer}\n\n[[ ## completed ## ]]`;
    },
    { modelId: 'scripted/arithmetic', usage: { inputTokens: 120, outputTokens: 20, costUsd: 0.00003 } },
  );
}

/** What {@link compileRandomSearch} returns. */
export interface RandomSearchRun {
  /** The best candidate's score (percent). */
  score: number;
  /** Every candidate's seed and score, best first. */
  candidates: { seed: number | undefined; score: number }[];
  /** What the compile spent. */
  stats: CompileStats;
  /** The projected LM calls before compiling. */
  estimate: { minLmCalls: number; maxLmCalls: number };
  /** Where the compiled program was saved. */
  savedTo: string;
  /** The compiled program. */
  program: TwoHopArithmetic;
}

/** Compiles {@link TwoHopArithmetic} with random search and saves the result to `outPath`. */
export async function compileRandomSearch(
  options: { lm?: LanguageModelV1; outPath?: string; checkpoint?: string } = {},
): Promise<RandomSearchRun> {
  const lm = options.lm ?? scriptedArithmeticLM();
  const savedTo = options.outPath ?? join(tmpdir(), `compiled-random-search-${process.pid}.json`);
  const trainset = ADDITION_SET.slice(0, 4);
  const valset = ADDITION_SET.slice(4);
  const optimizer = new BootstrapFewShotWithRandomSearch({
    metric: answerMatches,
    maxBootstrappedDemos: 2,
    maxLabeledDemos: 2,
    numCandidatePrograms: 3,
    numThreads: 2,
  });
  const student = new TwoHopArithmetic();
  const estimate = optimizer.estimate(student, { trainset, valset });
  const program = await context({ lm }, () =>
    optimizer.compile(student, {
      trainset,
      valset,
      ...(options.checkpoint ? { checkpoint: options.checkpoint } : {}),
    }),
  );
  await program.save(savedTo);
  const report = program.compileReport;
  return {
    score: report.score ?? 0,
    candidates: (report.candidatePrograms ?? []).map((c) => ({ seed: c.seed, score: c.score })),
    stats: report.stats,
    estimate: { minLmCalls: estimate.minLmCalls, maxLmCalls: estimate.maxLmCalls },
    savedTo,
    program,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const run = await compileRandomSearch(process.argv[2] ? { outPath: process.argv[2] } : {});
  console.log(`Projected LM calls: ${run.estimate.minLmCalls}–${run.estimate.maxLmCalls}`);
  for (const c of run.candidates) console.log(`  seed ${c.seed}: ${c.score}%`);
  console.log(`Best score: ${run.score}%`);
  const { lmCalls, inputTokens, outputTokens, costUsd } = run.stats;
  console.log(
    `Spent: ${lmCalls} LM calls, ${inputTokens} input + ${outputTokens} output tokens, $${(costUsd ?? 0).toFixed(5)}`,
  );
  console.log(`Saved the compiled program to ${run.savedTo}`);
}

/**
 * The DSPy paper's GSM8K program: `ChainOfThought('question -> answer')` scored by `Evaluate` with a numeric-answer
 * metric (the last number in the answer must equal the gold number).
 *
 * Works with any LM: `configure({ lm })` before calling {@link runGsm8k}. Run directly
 * (`npm run gsm8k --workspace examples`) it uses a scripted LM, so it runs offline.
 */
import { pathToFileURL } from 'node:url';
import {
  ChainOfThought,
  configure,
  Evaluate,
  type EvaluationResult,
  Example,
  type LanguageModelV1,
  type LMRequest,
  Module,
  type ModuleCallOptions,
  type Prediction,
} from '@dspy-ts/core';
import { ScriptedLM } from '@dspy-ts/core/testing';

/** A few GSM8K-style word problems with their numeric answers. */
export const GSM8K_DEVSET = [
  {
    question:
      'Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?',
    answer: '72',
  },
  {
    question:
      'Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of babysitting. How much did she earn?',
    answer: '10',
  },
  {
    question:
      'Betty is saving money for a new wallet which costs $100. Betty has only half of the money she needs. Her parents decided to give her $15 for that purpose, and her grandparents twice as much as her parents. How much more money does Betty need to buy the wallet?',
    answer: '5',
  },
  {
    question: 'James writes a 3-page letter to 2 different friends twice a week. How many pages does he write a year?',
    answer: '624',
  },
  {
    question:
      'A robe takes 2 bolts of blue fiber and half that much white fiber. How many bolts in total does it take?',
    answer: '3',
  },
].map((row) => new Example(row).withInputs('question'));

/**
 * GSM8K's answer parsing (DSPy's `parse_integer_answer`, generalised to decimals): the last number in the text,
 * thousands separators removed; `undefined` when there is none.
 */
export function parseNumericAnswer(text: unknown): number | undefined {
  const numbers = String(text ?? '').match(/-?\d[\d,]*(?:\.\d+)?/g);
  const last = numbers?.at(-1);
  return last === undefined ? undefined : Number(last.replaceAll(',', ''));
}

/** The GSM8K metric: the predicted number equals the gold number. */
export function gsm8kMetric(example: Example, prediction: Prediction): boolean {
  const gold = parseNumericAnswer(example.answer);
  const predicted = parseNumericAnswer(prediction.answer);
  return gold !== undefined && predicted !== undefined && Math.abs(gold - predicted) < 1e-9;
}

/** The paper's CoT program: one chain-of-thought step from question to answer. */
export class CoT extends Module<{ question: string }, Prediction> {
  prog = new ChainOfThought('question -> answer');

  override forward(inputs: { question: string }, options?: ModuleCallOptions): Promise<Prediction> {
    return this.prog.call(inputs, options);
  }
}

// Worked solutions the scripted LM gives; the robe problem is answered wrongly on purpose, like a real model might.
const SOLUTIONS: [string, string, string][] = [
  ['Natalia', 'In May she sold 48 / 2 = 24 clips, so 48 + 24 = 72 in total.', '72'],
  ['Weng', 'She earns 12 / 60 = $0.2 per minute, so 0.2 * 50 = $10.', '$10'],
  ['Betty', 'She has 100 / 2 = 50. Parents give 15, grandparents 30. 100 - 50 - 15 - 30 = 5.', '5'],
  ['James', 'He writes 3 * 2 = 6 pages twice a week: 12 pages a week, 12 * 52 = 624 a year.', '624 pages'],
  ['robe', 'Blue is 2 bolts and white is half of that, 1 bolt... so 2 * 1 = 2.', '2'],
];

/** A scripted LM answering the devset in the ChatAdapter format, for offline runs and tests. */
export function scriptedGsm8kLM(): ScriptedLM {
  return new ScriptedLM(
    (request: LMRequest) => {
      const last = String(request.messages.at(-1)?.content ?? '');
      const solution = SOLUTIONS.find(([key]) => last.includes(key));
      const [, reasoning, answer] = solution ?? ['', 'I do not know this problem.', '0'];
      return `[[ ## reasoning ## ]]\n${reasoning}\n\n[[ ## answer ## ]]\n${answer}\n\n[[ ## completed ## ]]`;
    },
    { modelId: 'scripted/gsm8k', usage: { inputTokens: 120, outputTokens: 40 } },
  );
}

/** Options of {@link runGsm8k}. */
export interface Gsm8kOptions {
  /** The LM; default: the configured one. */
  lm?: LanguageModelV1;
  /** Show the progress bar / progress lines. */
  displayProgress?: boolean;
  /** Print the results table. */
  displayTable?: boolean | number;
}

/** Evaluates the CoT program on {@link GSM8K_DEVSET}. */
export async function runGsm8k(options: Gsm8kOptions = {}): Promise<EvaluationResult> {
  if (options.lm) configure({ lm: options.lm });
  const evaluate = new Evaluate({
    devset: GSM8K_DEVSET,
    metric: gsm8kMetric,
    numThreads: 4,
    displayProgress: options.displayProgress ?? false,
    displayTable: options.displayTable ?? false,
  });
  return evaluate.call(new CoT());
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await runGsm8k({ lm: scriptedGsm8kLM(), displayProgress: true, displayTable: true });
  console.log(String(result));
}

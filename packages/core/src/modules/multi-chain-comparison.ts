import { DspyError } from '../errors.ts';
import { Completions } from '../primitives/completions.ts';
import type { Prediction } from '../primitives/prediction.ts';
import { Signature } from '../signature/signature.ts';
import { Module } from './module.ts';
import { Predict, type PredictCallOptions, type PredictConfig } from './predict.ts';

/** Options of {@link MultiChainComparison}: the number of attempts, the temperature and other request options. */
export interface MultiChainComparisonConfig extends PredictConfig {
  /** How many reasoning attempts are compared (default 3); every call must pass exactly this many. */
  M?: number;
}

/** A completion to compare: a prediction or record with `rationale` or `reasoning` and the last output field. */
export type ComparedCompletion = Record<string, unknown> | { get(key: string): unknown };

/** Inputs of {@link MultiChainComparison}: the signature's inputs plus the completions to compare. */
export type MultiChainComparisonInputs<I> = I & {
  /** Exactly `M` earlier attempts (predictions, plain records, or a `Completions` object). */
  completions: readonly ComparedCompletion[] | Completions;
};

function read(completion: ComparedCompletion, key: string): unknown {
  if (typeof (completion as { get?: unknown }).get === 'function') {
    return (completion as { get(key: string): unknown }).get(key);
  }
  return (completion as Record<string, unknown>)[key];
}

function firstLine(value: unknown): string {
  return (
    String(value ?? '')
      .trim()
      .split('\n')[0] ?? ''
  ).trim();
}

/**
 * Compares `M` reasoning attempts and writes a corrected rationale and answer (DSPy's
 * `dspy.MultiChainComparison`). The signature gets inputs `reasoning_attempt_1..M` (each rendered as
 * `«I'm trying to {rationale} I'm not sure but my prediction is {answer}»`, using the first line of each
 * attempt's `rationale` or `reasoning` and of its last output field) and a first output `rationale`.
 *
 * @example
 * ```ts
 * const cot = new ChainOfThought('question -> answer', { n: 3 });
 * const attempts = await cot.call({ question });
 * const mcc = new MultiChainComparison('question -> answer', { M: 3 });
 * const best = await mcc.call({ question, completions: attempts.completions! });
 * ```
 */
export class MultiChainComparison<
  I extends Record<string, unknown> = Record<string, unknown>,
  O extends Record<string, unknown> = Record<string, unknown>,
> extends Module<MultiChainComparisonInputs<I>, Prediction<{ rationale: string } & O>, PredictCallOptions> {
  /** Number of attempts compared. */
  M: number;
  /** The last output field of the original signature (the "answer" of each attempt). */
  lastKey: string;
  /** The comparison predictor. */
  predict: Predict;

  /**
   * @param signature The task, e.g. `'question -> answer'`.
   * @param config `M` (default 3), `temperature` (default 0.7) and other request options.
   */
  constructor(signature: Signature<I, O> | string, config: MultiChainComparisonConfig = {}) {
    super();
    const { M = 3, temperature = 0.7, ...rest } = config;
    this.M = M;
    let extended = Signature.from(signature as Signature | string);
    const last = extended.outputFields.at(-1);
    if (last === undefined) {
      throw new DspyError('invalid_argument', 'MultiChainComparison needs a signature with at least one output field.');
    }
    this.lastKey = last.name;
    for (let idx = 0; idx < M; idx++) {
      extended = extended.append(`reasoning_attempt_${idx + 1}`, {
        kind: 'input',
        prefix: `Student Attempt #${idx + 1}:`,
        desc: '${reasoning attempt}',
      });
    }
    extended = extended.prepend('rationale', {
      kind: 'output',
      prefix: "Accurate Reasoning: Thank you everyone. Let's now holistically",
      desc: '${corrected reasoning}',
    });
    this.predict = new Predict(extended, { temperature, ...rest });
  }

  /**
   * Builds the attempts and runs the comparison.
   *
   * @throws {DspyError} (`invalid_argument`) when the number of completions is not `M`.
   */
  override forward(
    inputs: MultiChainComparisonInputs<I>,
    options?: PredictCallOptions,
  ): Promise<Prediction<{ rationale: string } & O>> {
    const { completions, ...kwargs } = inputs;
    const list: ComparedCompletion[] =
      completions instanceof Completions ? [...completions] : [...(completions as readonly ComparedCompletion[])];
    const attempts = list.map((c) => {
      const rationale = firstLine(read(c, 'rationale') ?? read(c, 'reasoning'));
      const answer = firstLine(read(c, this.lastKey));
      return `«I'm trying to ${rationale} I'm not sure but my prediction is ${answer}»`;
    });
    if (attempts.length !== this.M) {
      throw new DspyError(
        'invalid_argument',
        `The number of attempts (${attempts.length}) doesn't match the expected number M (${this.M}). Please set the correct value for M when initializing MultiChainComparison.`,
      );
    }
    const attemptInputs = Object.fromEntries(attempts.map((a, idx) => [`reasoning_attempt_${idx + 1}`, a]));
    return this.predict.call({ ...attemptInputs, ...kwargs }, options) as unknown as Promise<
      Prediction<{ rationale: string } & O>
    >;
  }
}

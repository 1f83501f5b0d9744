import type { Prediction } from '../primitives/prediction.ts';
import { type FieldInit, Signature } from '../signature/signature.ts';
import { Module } from './module.ts';
import { Predict, type PredictCallOptions, type PredictConfig } from './predict.ts';

/** The prefix DSPy gives the `reasoning` field (deprecated and unused by adapters, but saved in state files). */
export const REASONING_PREFIX = "Reasoning: Let's think step by step in order to";

/** Options of {@link ChainOfThought}: request options for its predictor, plus the rationale field. */
export interface ChainOfThoughtConfig extends PredictConfig {
  /**
   * Replaces the default `reasoning` output field (DSPy's `rationale_field`). It is still named `reasoning`;
   * its type, description and prefix come from here.
   */
  rationaleField?: Omit<FieldInit, 'kind'>;
}

/**
 * Reasons step by step before answering: the signature gets an output field `reasoning` (first among the
 * outputs), and a single predictor named `predict` runs it (DSPy's `dspy.ChainOfThought`).
 *
 * @example
 * ```ts
 * const cot = new ChainOfThought(Signature.parse('question -> answer: int'));
 * const pred = await cot.call({ question: 'What is 6 * 7?' });
 * pred.reasoning; // '6 times 7 is 42.'
 * pred.answer;    // 42
 * ```
 */
export class ChainOfThought<
  I extends Record<string, unknown> = Record<string, unknown>,
  O extends Record<string, unknown> = Record<string, unknown>,
> extends Module<I, Prediction<{ reasoning: string } & O>, PredictCallOptions> {
  /** The predictor over the extended signature (`reasoning` prepended to the outputs). */
  predict: Predict<I, { reasoning: string } & O>;

  /**
   * @param signature A `Signature` or a signature string such as `'question -> answer'`.
   * @param config Request options for every call (e.g. `{ temperature: 0.7 }`) and an optional rationale field.
   */
  constructor(signature: Signature<I, O> | string, config: ChainOfThoughtConfig = {}) {
    super();
    const { rationaleField, ...predictConfig } = config;
    const base = Signature.from(signature as Signature | string);
    const extended = base.prepend('reasoning', {
      kind: 'output',
      prefix: REASONING_PREFIX,
      desc: '${reasoning}',
      ...rationaleField,
    });
    this.predict = new Predict(extended as unknown as Signature<I, { reasoning: string } & O>, predictConfig);
  }

  /** The extended signature (with `reasoning`), as used by the predictor. */
  get signature(): Signature {
    return this.predict.signature;
  }

  /** Runs the predictor; options (LM, config, demos, signal) are passed through. */
  override forward(inputs: I, options?: PredictCallOptions): Promise<Prediction<{ reasoning: string } & O>> {
    return this.predict.call(inputs, options);
  }
}

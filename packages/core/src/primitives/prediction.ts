import type { LMUsage } from '../lm/spec.ts';
import { pythonRepr } from '../signature/python-repr.ts';
import type { Signature } from '../signature/signature.ts';
import { Completions } from './completions.ts';
import { type ExampleAttributes, ExampleImpl, exampleState } from './example.ts';

/** Token usage of a program call, keyed by model id (DSPy's `get_lm_usage()`). */
export type LMUsageByModel = Record<string, LMUsage>;

/**
 * The implementation behind {@link Prediction}. Use `Prediction` (which adds typed attribute access) rather than
 * this class directly.
 */
export class PredictionImpl<O extends Record<string, unknown> = Record<string, unknown>> extends ExampleImpl<O> {
  /**
   * A prediction from the first completion of `listOrDict` (one record per completion, or one array per field),
   * keeping every completion in {@link PredictionImpl.completions}.
   */
  static fromCompletions<O extends Record<string, unknown> = Record<string, unknown>>(
    listOrDict: readonly O[] | { [K in keyof O]: O[K][] },
    signature?: Signature,
  ): Prediction<O> {
    const completions = new Completions<O>(listOrDict, signature);
    const first: Record<string, unknown> = {};
    for (const [k, values] of completions.items()) first[k] = values[0];
    const prediction = new this(first) as unknown as Prediction<O>;
    exampleState(prediction).extra.completions = completions;
    return prediction;
  }

  /** Every completion of the call that produced this prediction, when made by `fromCompletions`. */
  get completions(): Completions<O> | undefined {
    return exampleState(this).extra.completions as Completions<O> | undefined;
  }

  /** Token usage per model, filled in by modules when usage tracking is on. */
  get lmUsage(): LMUsageByModel | undefined {
    return exampleState(this).extra.lmUsage as LMUsageByModel | undefined;
  }

  set lmUsage(usage: LMUsageByModel | undefined) {
    exampleState(this).extra.lmUsage = usage;
  }

  /** DSPy's `get_lm_usage()`: the same as {@link PredictionImpl.lmUsage}. */
  getLmUsage(): LMUsageByModel | undefined {
    return this.lmUsage;
  }

  /** DSPy's `set_lm_usage()`. */
  setLmUsage(usage: LMUsageByModel | undefined): void {
    this.lmUsage = usage;
  }

  /** DSPy's repr: `Prediction(\n    answer='4'\n)`, noting how many further completions exist. */
  override toString(): string {
    const body = this.items(true)
      .map(([k, v]) => `${k}=${pythonRepr(v)}`)
      .join(',\n    ');
    const completions = this.completions;
    if (completions === undefined || completions.length <= 1) return `Prediction(\n    ${body}\n)`;
    return `Prediction(\n    ${body},\n    completions=Completions(...)\n) (${completions.length - 1} completions omitted)`;
  }
}

/**
 * The output of a module: an {@link Example} of output fields without input keys, plus all completions of the
 * LM call (`prediction.completions`) and token usage (`prediction.lmUsage`).
 *
 * @example
 * const pred = Prediction.fromCompletions([{ answer: 'Paris' }, { answer: 'Lyon' }]);
 * pred.answer;                    // 'Paris'
 * pred.completions?.answer;       // ['Paris', 'Lyon']
 * pred.completions?.at(1).answer; // 'Lyon'
 */
export type Prediction<O extends Record<string, unknown> = Record<string, unknown>> = PredictionImpl<O> &
  (string extends keyof O ? ExampleAttributes<O> : Readonly<Omit<O, keyof PredictionImpl>>);

/** The constructor of {@link Prediction}. */
export interface PredictionConstructor {
  new <O extends Record<string, unknown> = Record<string, unknown>>(base?: O | ExampleImpl<O>): Prediction<O>;
  new <B extends Record<string, unknown>, E extends Record<string, unknown>>(
    base: B | ExampleImpl<B>,
    extra: E,
  ): Prediction<Omit<B, keyof E> & E>;
  /** A new prediction from `base`. */
  from<O extends Record<string, unknown>>(base: O | ExampleImpl<O>): Prediction<O>;
  /** A prediction from the first completion, with all of them in `.completions`. */
  fromCompletions<O extends Record<string, unknown> = Record<string, unknown>>(
    listOrDict: readonly O[] | { [K in keyof O]: O[K][] },
    signature?: Signature,
  ): Prediction<O>;
  readonly prototype: PredictionImpl;
}

/** Creates predictions; see the {@link Prediction} type. */
export const Prediction = PredictionImpl as unknown as PredictionConstructor;

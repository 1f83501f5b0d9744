import type { Example, Module } from '@dspy-ts/core';
import type { CompileContext } from './compile-context.ts';
import { SeededRandom } from './random.ts';
import {
  type CompileEstimate,
  type CompileOptions,
  type CompileOutcome,
  makeEstimate,
  Teleprompter,
} from './teleprompter.ts';

/** Options of {@link LabeledFewShot}. */
export interface LabeledFewShotOptions {
  /** Demos per predictor. Default 16. */
  k?: number;
  /** Seed of the generator that samples the demos. Default 0. */
  seed?: number;
}

/** Compile options of {@link LabeledFewShot}. */
export interface LabeledFewShotCompileOptions extends CompileOptions {
  /** Sample `k` random examples (default) or take the first `k`. */
  sample?: boolean;
}

/**
 * Gives every predictor of a reset copy of `program` up to `k` training examples as demos: a random sample (the same
 * generator across predictors) or the first `k`. An empty trainset leaves the reset copy without demos.
 */
export function assignLabeledDemos<T extends Module<any, any, any>>(
  program: T,
  trainset: readonly Example[],
  k: number,
  sample: boolean,
  rng: SeededRandom,
): T {
  const copy = program.resetCopy();
  if (trainset.length === 0) return copy;
  const size = Math.min(k, trainset.length);
  for (const predictor of copy.predictors()) {
    predictor.demos = sample ? rng.sample(trainset, size) : trainset.slice(0, size);
  }
  return copy;
}

/**
 * Uses labeled training examples as demos, with no LM calls (DSPy's `LabeledFewShot`).
 *
 * Demo order comes from this package's seeded generator, not CPython's `random`, so it differs from DSPy's for the
 * same seed; the set of demos is drawn the same way.
 *
 * @example
 * ```ts
 * const compiled = await new LabeledFewShot({ k: 4 }).compile(program, { trainset });
 * ```
 */
export class LabeledFewShot extends Teleprompter<LabeledFewShotCompileOptions> {
  /** The optimizer's name. */
  readonly name = 'LabeledFewShot';
  /** Demos per predictor. */
  readonly k: number;
  /** Seed of the sampling generator. */
  readonly seed: number;

  constructor(options: LabeledFewShotOptions = {}) {
    super();
    this.k = options.k ?? 16;
    this.seed = options.seed ?? 0;
  }

  protected override async run<T extends Module<any, any, any>>(
    student: T,
    options: LabeledFewShotCompileOptions,
    _ctx: CompileContext,
  ): Promise<CompileOutcome<T>> {
    const program = assignLabeledDemos(
      student,
      options.trainset,
      this.k,
      options.sample ?? true,
      new SeededRandom(this.seed),
    );
    return { program };
  }

  /** LabeledFewShot makes no LM calls. */
  override estimate(): CompileEstimate {
    return makeEstimate(this.name, [{ step: 'copy labeled demos', minLmCalls: 0, maxLmCalls: 0 }], []);
  }
}

import { Module, type ModuleCallOptions } from '@dspy-ts/core';
import { OptimizerError } from './optimizer-error.ts';
import { SeededRandom } from './random.ts';

/** Options of {@link Ensemble}. */
export interface EnsembleOptions<P = unknown, R = unknown> {
  /** Combines the programs' outputs, e.g. `(outputs) => majority(outputs)`. Without it the list is returned. */
  reduceFn?: (outputs: P[]) => R;
  /** Call a random subset of this many programs per call instead of all of them. */
  size?: number;
  /** Not supported (as in DSPy): `true` throws. */
  deterministic?: boolean;
  /** Seed of the generator that picks the subset. Default 0. */
  seed?: number;
}

/**
 * The program {@link Ensemble.compile} returns: calls every program (or a random `size` of them) in turn with the
 * same inputs and returns `reduceFn(outputs)`, or the list of outputs. Its predictors are those of its programs
 * (`programs[0].predict`, …), so it saves and loads like any module.
 */
export class EnsembledProgram<P = unknown, R = P[]> extends Module<Record<string, unknown>, R> {
  /** The ensembled programs. */
  programs: Module<any, P, any>[];
  declare private readonly reduceFn: ((outputs: P[]) => R) | undefined;
  declare private readonly size: number | undefined;
  declare private readonly rng: SeededRandom;

  constructor(programs: Module<any, P, any>[], options: EnsembleOptions<P, R>) {
    super();
    this.programs = programs;
    // Behaviour, not state: kept off the module walk (and shared by copies).
    Object.defineProperties(this, {
      reduceFn: { value: options.reduceFn, enumerable: false },
      size: { value: options.size, enumerable: false },
      rng: { value: new SeededRandom(options.seed ?? 0), enumerable: false },
    });
  }

  /** Runs the chosen programs one after another and reduces their outputs. */
  override async forward(inputs: Record<string, unknown>, options?: ModuleCallOptions): Promise<R> {
    const programs = this.size ? this.rng.sample(this.programs, this.size) : this.programs;
    const outputs: P[] = [];
    for (const program of programs) outputs.push(await program.call(inputs, options));
    return this.reduceFn ? this.reduceFn(outputs) : (outputs as unknown as R);
  }
}

/**
 * Combines several programs into one (DSPy's `Ensemble`). No LM calls are made while compiling.
 *
 * @example
 * ```ts
 * const ensemble = new Ensemble({ reduceFn: (outputs) => majority(outputs), size: 3 });
 * const program = ensemble.compile(candidates.map((c) => c.program));
 * ```
 */
export class Ensemble<P = unknown, R = P[]> {
  /** The optimizer's name. */
  readonly name = 'Ensemble';
  /** The options. */
  readonly options: EnsembleOptions<P, R>;

  /** @throws {OptimizerError} with DSPy's message when `deterministic` is true. */
  constructor(options: EnsembleOptions<P, R> = {}) {
    if (options.deterministic) {
      // DSPy 3.3.1 raises this exact text; it is kept so that messages match, with what to do instead.
      throw new OptimizerError(
        'Ensemble: expected deterministic to be false (deterministic ensembles are not supported, as in DSPy 3.3.1: ' +
          '"TODO: Implement example hashing for deterministic ensemble."); found deterministic: true.',
      );
    }
    if (options.size !== undefined && (!Number.isInteger(options.size) || options.size < 1)) {
      throw new OptimizerError(`Ensemble size must be a positive integer, got ${options.size}.`);
    }
    this.options = { ...options };
  }

  /**
   * An {@link EnsembledProgram} over `programs`.
   *
   * @throws {OptimizerError} when `size` exceeds the number of programs.
   */
  compile(programs: readonly Module<any, P, any>[]): EnsembledProgram<P, R> {
    if (this.options.size !== undefined && this.options.size > programs.length) {
      throw new OptimizerError(
        `Ensemble size ${this.options.size} is larger than the ${programs.length} program(s) given; pass at least ` +
          `${this.options.size} programs or a smaller size.`,
      );
    }
    return new EnsembledProgram<P, R>([...programs], this.options);
  }
}

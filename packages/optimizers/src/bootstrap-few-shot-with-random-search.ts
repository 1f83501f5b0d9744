import { getSetting, type Metric, type Module, type Settings } from '@dspy-ts/core';
import { bootstrapConfig, estimateBootstrap, runBootstrapFewShot } from './bootstrap-few-shot.ts';
import type { CompileContext } from './compile-context.ts';
import { evaluateCandidate } from './evaluate-candidate.ts';
import { assignLabeledDemos } from './labeled-few-shot.ts';
import { OptimizerError } from './optimizer-error.ts';
import { SeededRandom } from './random.ts';
import {
  type CandidateProgram,
  type CompileEstimate,
  type CompileOptions,
  type CompileOutcome,
  callsPerRun,
  type EstimateOptions,
  type EstimateStep,
  makeEstimate,
  Teleprompter,
} from './teleprompter.ts';

/** Options of {@link BootstrapFewShotWithRandomSearch} (DSPy's keyword arguments, camelCased). */
export interface BootstrapFewShotWithRandomSearchOptions {
  /** Scores candidates on the valset (`metric(example, prediction)`) and judges bootstrap traces (with the trace). */
  metric: Metric;
  /** Settings the teacher runs under. */
  teacherSettings?: Partial<Settings>;
  /** Upper bound of the random number of bootstrapped demos per candidate. Default 4. */
  maxBootstrappedDemos?: number;
  /** Demos per predictor including labeled ones. Default 16. */
  maxLabeledDemos?: number;
  /** Bootstrap attempts per example. Default 1. */
  maxRounds?: number;
  /** Shuffled-bootstrap candidates, on top of the three fixed ones. Default 16. */
  numCandidatePrograms?: number;
  /** Examples evaluated at the same time. Default: the `numThreads` setting. */
  numThreads?: number;
  /** Errors tolerated while bootstrapping or evaluating. Default: the `maxErrors` setting. */
  maxErrors?: number;
  /** Stop as soon as a candidate scores at least this much. */
  stopAtScore?: number;
  /** Minimum metric value for a bootstrap trace to be kept. */
  metricThreshold?: number;
}

/** Compile options of {@link BootstrapFewShotWithRandomSearch}. */
export interface RandomSearchCompileOptions extends CompileOptions {
  /** Evaluate only these seeds (−3 … numCandidatePrograms−1). */
  restrict?: readonly number[];
  /** Whether the labeled-only candidate samples its demos (default) or takes the first ones. */
  labeledSample?: boolean;
}

/**
 * Bootstraps several candidate programs and keeps the one that scores best on the valset (DSPy's
 * `BootstrapFewShotWithRandomSearch`, alias {@link BootstrapRS}).
 *
 * Candidates by seed: −3 the zero-shot student, −2 labeled demos only, −1 BootstrapFewShot on the trainset in order,
 * then seeds 0…N−1: BootstrapFewShot on the trainset shuffled by the seed, with a random number (1 …
 * `maxBootstrappedDemos`, drawn from the seed) of bootstrapped demos. Each is scored with DSPy's `Evaluate` rule on
 * the valset (default: the trainset); a candidate replaces the best only when strictly better. The result carries
 * `candidatePrograms`, best first.
 *
 * Shuffles and sizes come from this package's seeded generator, so they differ from DSPy's (CPython's `random`) for
 * the same seed.
 *
 * @example
 * ```ts
 * const optimizer = new BootstrapFewShotWithRandomSearch({ metric, numCandidatePrograms: 8 });
 * const best = await optimizer.compile(program, { trainset, valset, checkpoint: 'rs.ckpt.json' });
 * best.compileReport.score; // the best candidate's score
 * ```
 */
export class BootstrapFewShotWithRandomSearch extends Teleprompter<RandomSearchCompileOptions> {
  /** The optimizer's name. */
  readonly name: string = 'BootstrapFewShotWithRandomSearch';
  /** The options, with defaults applied. */
  readonly options: Required<
    Omit<BootstrapFewShotWithRandomSearchOptions, 'stopAtScore' | 'metricThreshold' | 'numThreads' | 'maxErrors'>
  > &
    Pick<BootstrapFewShotWithRandomSearchOptions, 'stopAtScore' | 'metricThreshold' | 'numThreads' | 'maxErrors'>;

  constructor(options: BootstrapFewShotWithRandomSearchOptions) {
    super();
    if (typeof options?.metric !== 'function') {
      throw new OptimizerError('BootstrapFewShotWithRandomSearch needs a metric to score its candidates.');
    }
    this.options = {
      teacherSettings: {},
      maxBootstrappedDemos: 4,
      maxLabeledDemos: 16,
      maxRounds: 1,
      numCandidatePrograms: 16,
      ...options,
    };
  }

  /** The seeds a compile goes through, in order. */
  seeds(restrict?: readonly number[]): number[] {
    const seeds: number[] = [];
    for (let seed = -3; seed < this.options.numCandidatePrograms; seed++) {
      if (restrict === undefined || restrict.includes(seed)) seeds.push(seed);
    }
    return seeds;
  }

  /** The number of bootstrapped demos candidate `seed` asks for (seed ≥ 0), drawn from the seed. */
  demoCount(seed: number): number {
    return new SeededRandom(seed).randint(1, this.options.maxBootstrappedDemos);
  }

  protected override async run<T extends Module<any, any, any>>(
    student: T,
    options: RandomSearchCompileOptions,
    ctx: CompileContext,
  ): Promise<CompileOutcome<T>> {
    const o = this.options;
    const valset = options.valset && options.valset.length > 0 ? options.valset : options.trainset;
    const maxErrors = o.maxErrors ?? getSetting('maxErrors');
    const seeds = this.seeds(options.restrict);
    const candidates: CandidateProgram<T>[] = [];
    let best: T | undefined;
    let bestScore = Number.NEGATIVE_INFINITY;
    ctx.startLoop(seeds.length, 'candidates');

    for (const seed of seeds) {
      const child = ctx.child(`candidate/${seed}/`);
      const trainset = [...options.trainset];
      let program: T;
      if (seed === -3) {
        program = student.resetCopy();
      } else if (seed === -2) {
        program = assignLabeledDemos(
          student,
          trainset,
          o.maxLabeledDemos,
          options.labeledSample ?? true,
          new SeededRandom(0),
        );
      } else {
        let size = o.maxBootstrappedDemos;
        if (seed >= 0) {
          new SeededRandom(seed).shuffle(trainset);
          size = this.demoCount(seed);
        }
        const config = bootstrapConfig({
          metric: o.metric,
          maxBootstrappedDemos: size,
          maxLabeledDemos: o.maxLabeledDemos,
          teacherSettings: o.teacherSettings,
          maxRounds: o.maxRounds,
          maxErrors,
          ...(o.metricThreshold === undefined ? {} : { metricThreshold: o.metricThreshold }),
        });
        program = await runBootstrapFewShot(student, trainset, options.teacher, config, child);
      }

      const result = await evaluateCandidate(program, valset, o.metric, child, 'eval', {
        maxErrors,
        ...(o.numThreads === undefined ? {} : { numThreads: o.numThreads }),
      });
      if (best === undefined || result.score > bestScore) {
        best = program;
        bestScore = result.score;
      }
      candidates.push({ score: result.score, subscores: result.subscores, seed, program });
      ctx.advance('candidate', { bestScore, label: `seed ${seed}` });
      if (o.stopAtScore !== undefined && result.score >= o.stopAtScore) break;
    }
    if (best === undefined) {
      throw new OptimizerError(
        `No candidate was evaluated: restrict=${JSON.stringify(options.restrict)} matches none of the seeds ` +
          `-3 … ${o.numCandidatePrograms - 1}.`,
      );
    }
    // A stable sort keeps seed order among equal scores, as Python's `sorted`.
    candidates.sort((a, b) => b.score - a.score);
    return { program: best, score: bestScore, candidatePrograms: candidates };
  }

  /** Projects bootstrap calls per candidate (a range) plus one valset evaluation per candidate (exact). */
  override estimate(
    student: Module<any, any, any>,
    options: EstimateOptions & Pick<RandomSearchCompileOptions, 'restrict'>,
  ): CompileEstimate {
    const o = this.options;
    const perRun = callsPerRun(options.teacher ?? student, options);
    const valSize = options.valset && options.valset.length > 0 ? options.valset.length : options.trainset.length;
    const steps: EstimateStep[] = [];
    for (const seed of this.seeds(options.restrict)) {
      if (seed >= -1) {
        const size = seed === -1 ? o.maxBootstrappedDemos : this.demoCount(seed);
        steps.push({
          step: `seed ${seed}: bootstrap ${size} demo(s)`,
          ...estimateBootstrap(options.trainset.length, size, o.maxRounds, perRun),
        });
      }
      const calls = valSize * callsPerRun(student, options);
      steps.push({ step: `seed ${seed}: evaluate on ${valSize} example(s)`, minLmCalls: calls, maxLmCalls: calls });
    }
    return makeEstimate(this.name, steps, [
      `${perRun} LM call(s) per program run`,
      'no early stop (stopAtScore) and no cache hits',
    ]);
  }
}

/** DSPy's alias `dspy.BootstrapRS`. */
export const BootstrapRS = BootstrapFewShotWithRandomSearch;

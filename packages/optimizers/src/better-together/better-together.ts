import { DspyError, type Example, type Metric, type Module } from '@dspy-ts/core';
import { BootstrapFewShotWithRandomSearch } from '../bootstrap-few-shot-with-random-search.ts';
import type { CompileContext } from '../compile-context.ts';
import { evaluateCandidate } from '../evaluate-candidate.ts';
import { BootstrapFinetune } from '../finetune/bootstrap-finetune.ts';
import { OptimizerError } from '../optimizer-error.ts';
import { SeededRandom } from '../random.ts';
import {
  type CandidateProgram,
  type Compiled,
  type CompileEstimate,
  type CompileOptions,
  type CompileOutcome,
  callsPerRun,
  type EstimateOptions,
  type EstimateStep,
  makeEstimate,
  Teleprompter,
} from '../teleprompter.ts';

/** Separator of the steps of a strategy, as DSPy's `STRAT_SEP`. */
export const STRATEGY_SEPARATOR = ' -> ';

/** Options of {@link BetterTogether}. */
export interface BetterTogetherOptions {
  /** Scores every intermediate program on the valset. */
  metric: Metric;
  /** The prompt optimizer (step `p`). Default `BootstrapFewShotWithRandomSearch({ metric })`. */
  p?: Teleprompter<any>;
  /** The weight optimizer (step `w`). Default `BootstrapFinetune({ metric })`. */
  w?: Teleprompter<any>;
  /** Examples evaluated at the same time. Default: the `numThreads` setting. */
  numThreads?: number;
  /** Failed examples tolerated per evaluation. Default: the `maxErrors` setting. */
  maxErrors?: number;
}

/** Compile options of {@link BetterTogether}. */
export interface BetterTogetherCompileOptions extends CompileOptions {
  /** Scores the programs; default: `valsetRatio` of the trainset, held out. */
  valset?: readonly Example[];
  /** Share of the trainset held out as valset when none is given. Default 0.1. */
  valsetRatio?: number;
  /** The steps, by optimizer key, joined by ` -> `. Default `p -> w -> p`. */
  strategy?: string;
  /** Shuffle the trainset before each step. Default true. */
  shuffleTrainsetBetweenSteps?: boolean;
  /** Seed of the held-out split and the shuffles. Default 0. */
  seed?: number;
}

/** One program of a BetterTogether run, with the strategy prefix that produced it (`''` for the student). */
export interface BetterTogetherCandidate<T = Module<any, any, any>> extends CandidateProgram<T> {
  /** The steps run so far, e.g. `p -> w`. */
  strategy: string;
}

/** A BetterTogether result. */
export type BetterTogetherCompiled<T> = Compiled<T> & {
  /** Every program of the run with its strategy, best first. */
  readonly candidatePrograms: BetterTogetherCandidate<T>[] | undefined;
  /** True when a step raised and the sequence stopped early (DSPy's `flag_compilation_error_occurred`). */
  readonly flagCompilationErrorOccurred: boolean;
};

/**
 * Alternates prompt and weight optimization (DSPy's `BetterTogether`, Soylu et al. 2024). The `strategy` names the
 * steps by optimizer key (`p`: prompts, `w`: weights), e.g. `p -> w -> p`. Each step compiles the previous step's
 * program on the trainset (reshuffled before each step unless `shuffleTrainsetBetweenSteps` is false), and every
 * program — the student included — is scored on the valset (by default held out from the trainset by
 * `valsetRatio`). Returns the best-scoring program with `candidatePrograms` (`program`, `score`, `strategy`, best
 * first). When a step raises, the error is logged, `flagCompilationErrorOccurred` is set, and the best program so
 * far is returned.
 *
 * With `checkpoint: 'run.json'`, evaluations are checkpointed there and each step in its own file
 * (`run.json.step<i>-<key>.json`), so an interrupted run resumes without repeating LM calls.
 *
 * @example
 * ```ts
 * const optimizer = new BetterTogether({ metric, w: new BootstrapFinetune({ metric, finetuner }) });
 * const best = await optimizer.compile(program, { trainset, strategy: 'p -> w' });
 * ```
 */
export class BetterTogether extends Teleprompter<BetterTogetherCompileOptions> {
  /** The optimizer's name. */
  readonly name = 'BetterTogether';
  /** The step optimizers by key. */
  readonly optimizers: Readonly<Record<string, Teleprompter<any>>>;
  /** The options. */
  readonly options: BetterTogetherOptions;

  /** @throws {OptimizerError} without a metric. */
  constructor(options: BetterTogetherOptions) {
    super();
    if (typeof options?.metric !== 'function') {
      throw new OptimizerError('BetterTogether needs a metric to score the programs of its steps.');
    }
    this.options = options;
    this.optimizers = {
      p: options.p ?? new BootstrapFewShotWithRandomSearch({ metric: options.metric }),
      w: options.w ?? new BootstrapFinetune({ metric: options.metric }),
    };
  }

  /**
   * Compiles `student` (see {@link Teleprompter.compile}); the result carries `flagCompilationErrorOccurred`.
   *
   * @throws {OptimizerError} for a strategy naming an unknown optimizer, or a bad `valsetRatio`.
   */
  override async compile<T extends Module<any, any, any>>(
    student: T,
    options: BetterTogetherCompileOptions,
  ): Promise<BetterTogetherCompiled<T>> {
    this.parseStrategy(options.strategy);
    return (await super.compile(student, options)) as BetterTogetherCompiled<T>;
  }

  /** The steps of `strategy`. */
  parseStrategy(strategy = 'p -> w -> p'): string[] {
    const steps = strategy.split(STRATEGY_SEPARATOR).map((step) => step.trim());
    const unknown = steps.filter((step) => !(step in this.optimizers));
    if (steps.length === 0 || unknown.length > 0) {
      throw new OptimizerError(
        `The strategy "${strategy}" must name optimizers among [${Object.keys(this.optimizers).join(', ')}], ` +
          `separated by "${STRATEGY_SEPARATOR}"; unknown: [${unknown.join(', ')}].`,
      );
    }
    return steps;
  }

  /** The trainset and valset a compile uses: the valset given, or `valsetRatio` of the shuffled trainset. */
  split(options: BetterTogetherCompileOptions): { trainset: Example[]; valset: Example[] } {
    const ratio = options.valsetRatio ?? 0.1;
    if (!(ratio >= 0 && ratio < 1)) throw new OptimizerError(`valsetRatio must be in [0, 1), found ${ratio}.`);
    if (options.valset && options.valset.length > 0) {
      return { trainset: [...options.trainset], valset: [...options.valset] };
    }
    const shuffled = new SeededRandom(options.seed ?? 0).shuffle([...options.trainset]);
    const size = ratio > 0 ? Math.max(1, Math.floor(shuffled.length * ratio)) : 0;
    if (size === 0 || size >= shuffled.length) {
      // Nothing can be held out: the programs are scored on the trainset.
      return { trainset: [...options.trainset], valset: [...options.trainset] };
    }
    return { trainset: shuffled.slice(size), valset: shuffled.slice(0, size) };
  }

  protected override async run<T extends Module<any, any, any>>(
    student: T,
    options: BetterTogetherCompileOptions,
    ctx: CompileContext,
  ): Promise<CompileOutcome<T>> {
    const steps = this.parseStrategy(options.strategy);
    const { trainset, valset } = this.split(options);
    if (trainset.length === 0) throw new OptimizerError('BetterTogether needs a non-empty trainset.');
    const rng = new SeededRandom(options.seed ?? 0);
    const evalOptions = {
      ...(this.options.numThreads === undefined ? {} : { numThreads: this.options.numThreads }),
      ...(this.options.maxErrors === undefined ? {} : { maxErrors: this.options.maxErrors }),
    };
    const evaluate = async (program: T, key: string) => {
      const copy = program.deepCopy();
      ctx.journalProgram(copy);
      return evaluateCandidate(copy, valset, this.options.metric, ctx, key, evalOptions);
    };

    const candidates: BetterTogetherCandidate<T>[] = [];
    ctx.startLoop(steps.length + 1, 'programs');
    let current = student.deepCopy();
    const baseline = await evaluate(current, 'eval/0');
    candidates.push({ program: current, score: baseline.score, subscores: baseline.subscores, strategy: '' });
    ctx.advance('evaluate', { bestScore: baseline.score, label: 'student' });

    let failed = false;
    for (const [i, step] of steps.entries()) {
      const strategy = steps.slice(0, i + 1).join(STRATEGY_SEPARATOR);
      const stepTrainset = [...trainset];
      if (options.shuffleTrainsetBetweenSteps ?? true) rng.shuffle(stepTrainset);
      const optimizer = this.optimizers[step] as Teleprompter<any>;
      try {
        ctx.throwIfAborted();
        const compiled: T = await optimizer.compile(current, {
          trainset: stepTrainset,
          ...(ctx.signal ? { signal: ctx.signal } : {}),
          ...(options.checkpoint === undefined
            ? {}
            : { checkpoint: `${options.checkpoint}.step${i + 1}-${step}.json` }),
          ...(options.onProgress ? { onProgress: options.onProgress } : {}),
          displayProgress: false,
        });
        // Prompt optimizers start from `resetCopy()`, which clears predictors' LMs: give them back, as DSPy does.
        const lms = current.predictors().map((predictor) => predictor.lm);
        for (const [k, predictor] of compiled.predictors().entries()) predictor.lm ??= lms[k] ?? null;
        current = compiled;
      } catch (error) {
        if (ctx.aborted || (DspyError.isInstance(error) && error.code === 'aborted')) throw error;
        console.error(
          `BetterTogether: step ${i + 1} (${strategy}) failed: ${(error as Error)?.message ?? error}. ` +
            'Returning the best program found so far.',
        );
        failed = true;
        break;
      }
      const result = await evaluate(current, `eval/${i + 1}`);
      candidates.push({ program: current, score: result.score, subscores: result.subscores, strategy });
      ctx.advance('candidate', { bestScore: Math.max(...candidates.map((c) => c.score)), label: strategy });
    }

    // Best first; among equal scores the earlier program (stable sort).
    const ranked = [...candidates].sort((a, b) => b.score - a.score);
    const best = ranked[0] as BetterTogetherCandidate<T>;
    Object.defineProperty(best.program, 'flagCompilationErrorOccurred', {
      value: failed,
      enumerable: false,
      configurable: true,
    });
    return { program: best.program, score: best.score, candidatePrograms: ranked };
  }

  /** Sums the steps' own estimates (on the trainset without the held-out part) and one valset evaluation per program. */
  override estimate(
    student: Module<any, any, any>,
    options: EstimateOptions & Pick<BetterTogetherCompileOptions, 'strategy' | 'valsetRatio' | 'seed'>,
  ): CompileEstimate {
    const steps = this.parseStrategy(options.strategy);
    const { trainset, valset } = this.split({ ...options, trainset: options.trainset });
    const perRun = callsPerRun(student, options);
    const evalCalls = valset.length * perRun;
    const parts: EstimateStep[] = [
      { step: 'evaluate the student on the valset', minLmCalls: evalCalls, maxLmCalls: evalCalls },
    ];
    for (const [i, step] of steps.entries()) {
      const inner = (this.optimizers[step] as Teleprompter<any>).estimate(student, {
        ...options,
        trainset,
        valset: undefined,
      });
      parts.push({
        step: `step ${i + 1} (${step}): ${inner.optimizer}`,
        minLmCalls: inner.minLmCalls,
        maxLmCalls: inner.maxLmCalls,
      });
      parts.push({ step: `step ${i + 1}: evaluate on the valset`, minLmCalls: evalCalls, maxLmCalls: evalCalls });
    }
    return makeEstimate(this.name, parts, [`${perRun} LM call(s) per program run`, 'no step fails, no cache hits']);
  }
}

import { randomUUID } from 'node:crypto';
import { context, type Example, fireCallbacks, getSetting, type Module } from '@dspy-ts/core';
import { Checkpoint } from './checkpoint.ts';
import { CompileContext } from './compile-context.ts';
import { type CompileStats, StatsRecorder } from './compile-stats.ts';
import { fingerprintParts } from './fingerprint.ts';
import { type ProgressOptions, ProgressReporter } from './progress.ts';

/** Options of every optimizer's `compile`. */
export interface CompileOptions extends ProgressOptions {
  /** Training examples, each with input keys set (`example.withInputs(...)`). */
  trainset: readonly Example[];
  /** Validation examples, for optimizers that score candidates (defaults differ per optimizer). */
  valset?: readonly Example[];
  /** The program whose runs become demonstrations; defaults to the student. */
  teacher?: Module<any, any, any>;
  /** Cancels the compile between LM calls; progress so far stays in the checkpoint. */
  signal?: AbortSignal;
  /**
   * A `.json` file that records progress after every unit of work (atomically). Running the same compile again with
   * the same file resumes it without repeating any LM call; a file from a different configuration or data set is
   * rejected. Keep it after a successful compile and a re-run returns the same program for free.
   */
  checkpoint?: string;
}

/** One scored candidate of a search (DSPy's `candidate_programs` entries). */
export interface CandidateProgram<T = Module<any, any, any>> {
  /** The candidate's score (Evaluate's percentage). */
  score: number;
  /** The candidate program. */
  program: T;
  /** Per-example metric values on the evaluation set, in order. */
  subscores?: (number | boolean)[];
  /** Random search: the seed that produced the candidate (−3 zero-shot, −2 labeled only, −1 unshuffled). */
  seed?: number;
  /** COPRO: the candidate's instruction. */
  instruction?: string;
  /** COPRO: the candidate's output prefix. */
  prefix?: string;
  /** COPRO: the depth at which the candidate was evaluated. */
  depth?: number;
}

/**
 * What a compile did and spent, attached to the compiled program as `program.compileReport` (also available as
 * {@link getCompileReport}).
 *
 * @example
 * ```ts
 * const compiled = await optimizer.compile(student, { trainset });
 * const { lmCalls, inputTokens, outputTokens, costUsd } = compiled.compileReport.stats;
 * ```
 */
export interface CompileReport<T = Module<any, any, any>> {
  /** The optimizer's name, e.g. `BootstrapFewShot`. */
  optimizer: string;
  /** What this run spent. */
  stats: CompileStats;
  /** What every run recorded in the checkpoint spent, this one included (equals `stats` without a checkpoint). */
  totalStats: CompileStats;
  /** Units of work taken from the checkpoint instead of being run again. */
  resumedUnits: number;
  /** The best score, for optimizers that score candidates. */
  score?: number;
  /** Every scored candidate, best first. */
  candidatePrograms?: CandidateProgram<T>[];
  /** COPRO's `total_calls`: how many candidate evaluations ran. */
  totalCalls?: number;
  /** The checkpoint file, when one was used. */
  checkpoint?: string;
  /** Wall-clock duration of this run in milliseconds. */
  durationMs: number;
}

/** A compiled program: the program itself plus its {@link CompileReport}. */
export type Compiled<T> = T & {
  /** What the compile did and spent. */
  readonly compileReport: CompileReport<T>;
  /** Every scored candidate, best first (searches only; DSPy's `candidate_programs`). */
  readonly candidatePrograms: CandidateProgram<T>[] | undefined;
};

/** What an optimizer's `run` produces. */
export interface CompileOutcome<T> {
  /** The compiled program (a new object, never the student). */
  program: T;
  /** Best score, when candidates were scored. */
  score?: number;
  /** Scored candidates, best first. */
  candidatePrograms?: CandidateProgram<T>[];
  /** COPRO's number of candidate evaluations. */
  totalCalls?: number;
}

/** Options of `estimate`. */
export interface EstimateOptions {
  /** Training examples. */
  trainset: readonly Example[];
  /** Validation examples. */
  valset?: readonly Example[];
  /** The teacher program, if not the student. */
  teacher?: Module<any, any, any>;
  /**
   * LM calls one run of the program makes. Default: its number of predictors (each called once per run), which is
   * right for straight-line programs and wrong for loops (ReAct) or conditional calls.
   */
  callsPerRun?: number;
}

/** One step of an {@link CompileEstimate}. */
export interface EstimateStep {
  /** What the step does. */
  step: string;
  /** Fewest LM calls the step can make. */
  minLmCalls: number;
  /** Most LM calls the step can make. */
  maxLmCalls: number;
}

/**
 * The projected LM calls of a compile, computed without calling anything (a dry run). Bootstrapping costs depend on
 * how soon the metric accepts traces, hence a range; evaluation costs are exact given `callsPerRun`. Cache hits and
 * checkpoint replays make the real number lower.
 */
export interface CompileEstimate {
  /** The optimizer's name. */
  optimizer: string;
  /** Fewest LM calls the compile can make. */
  minLmCalls: number;
  /** Most LM calls the compile can make. */
  maxLmCalls: number;
  /** The same per step. */
  steps: EstimateStep[];
  /** What the numbers assume. */
  assumptions: string[];
}

/** Sums steps into an estimate. */
export function makeEstimate(optimizer: string, steps: EstimateStep[], assumptions: string[]): CompileEstimate {
  return {
    optimizer,
    minLmCalls: steps.reduce((sum, step) => sum + step.minLmCalls, 0),
    maxLmCalls: steps.reduce((sum, step) => sum + step.maxLmCalls, 0),
    steps,
    assumptions,
  };
}

/** LM calls per program run for an estimate: the option, else the number of predictors. */
export function callsPerRun(program: Module<any, any, any>, options: EstimateOptions): number {
  return options.callsPerRun ?? Math.max(1, program.predictors().length);
}

const reports = new WeakMap<object, CompileReport<any>>();

/** The {@link CompileReport} of a program returned by `compile`, if it is one. Copies of it have none. */
export function getCompileReport<T>(program: T): CompileReport<T> | undefined {
  return typeof program === 'object' && program !== null ? reports.get(program) : undefined;
}

function attachReport<T extends object>(program: T, report: CompileReport<T>): Compiled<T> {
  reports.set(program, report);
  // Accessors rather than values: `deepCopy` copies own properties, and a copy is not the compiled result.
  Object.defineProperty(program, 'compileReport', {
    get(this: object) {
      return reports.get(this);
    },
    enumerable: false,
    configurable: true,
  });
  Object.defineProperty(program, 'candidatePrograms', {
    get(this: object) {
      return reports.get(this)?.candidatePrograms;
    },
    enumerable: false,
    configurable: true,
  });
  return program as Compiled<T>;
}

const RUN_ONLY_OPTIONS = new Set([
  'trainset',
  'valset',
  'teacher',
  'signal',
  'checkpoint',
  'onProgress',
  'displayProgress',
  'progressStream',
]);

/**
 * Base class of the optimizers that compile one student (DSPy's `Teleprompter`). `compile` returns a new program
 * and never changes the student; it counts every LM call, shows progress, and with `checkpoint` can be resumed.
 * Subclasses implement {@link Teleprompter.run} (the algorithm, split into checkpointed units) and
 * {@link Teleprompter.estimate}.
 */
export abstract class Teleprompter<TOptions extends CompileOptions = CompileOptions> {
  /** The optimizer's name, as in DSPy. */
  abstract readonly name: string;

  /**
   * Compiles `student` into a new program. The student is not modified. The result carries
   * `compileReport` with the LM calls, tokens and cost spent.
   *
   * @throws {OptimizerError} for invalid options or a checkpoint from a different compile.
   * @throws {DspyError} with code `aborted` when `options.signal` fires.
   */
  async compile<T extends Module<any, any, any>>(student: T, options: TOptions): Promise<Compiled<T>> {
    const started = performance.now();
    const checkpoint = await Checkpoint.open(options.checkpoint, this.name, this.fingerprint(student, options));
    const stats = new StatsRecorder();
    checkpoint.trackStats(() => stats.snapshot());
    const progress = new ProgressReporter(this.name, options, () => stats.lmCalls);
    const ctx = new CompileContext(checkpoint, stats, progress, options.signal);
    const callbacks = [...getSetting('callbacks')];
    const callId = randomUUID();
    fireCallbacks(callbacks, 'onCompileStart', callId, this, {
      student,
      trainset: options.trainset,
      valset: options.valset,
      teacher: options.teacher,
    });
    try {
      const outcome = await context({ callbacks: [...callbacks, stats], lm: ctx.lm(getSetting('lm')) }, () =>
        this.run(student, options, ctx),
      );
      await checkpoint.persist();
      const thisRun = stats.snapshot();
      const report: CompileReport<T> = {
        optimizer: this.name,
        stats: thisRun,
        totalStats: options.checkpoint === undefined ? thisRun : checkpoint.totalSpent(),
        resumedUnits: ctx.replayedUnits,
        durationMs: performance.now() - started,
        ...(outcome.score === undefined ? {} : { score: outcome.score }),
        ...(outcome.candidatePrograms === undefined ? {} : { candidatePrograms: outcome.candidatePrograms }),
        ...(outcome.totalCalls === undefined ? {} : { totalCalls: outcome.totalCalls }),
        ...(options.checkpoint === undefined ? {} : { checkpoint: options.checkpoint }),
      };
      const compiled = attachReport(outcome.program, report);
      fireCallbacks(callbacks, 'onCompileEnd', callId, compiled, undefined);
      return compiled;
    } catch (caught) {
      // Whatever an abort broke (a request, a program run, a bootstrap), the compile reports its `aborted` error.
      let error = caught;
      try {
        ctx.throwIfAborted();
      } catch (aborted) {
        error = aborted;
      }
      await checkpoint.persist().catch(() => {});
      fireCallbacks(callbacks, 'onCompileEnd', callId, undefined, error);
      throw error;
    } finally {
      progress.stop();
    }
  }

  /** Projects the LM calls `compile` would make with these options, without calling anything (a dry run). */
  abstract estimate(student: Module<any, any, any>, options: EstimateOptions): CompileEstimate;

  /** The optimizer's settings (DSPy's `get_params`): its own enumerable properties. */
  getParams(): Record<string, unknown> {
    return { ...this } as Record<string, unknown>;
  }

  /**
   * The algorithm. Runs inside the compile's settings scope (stats callback, journaled LM) and must do its LM work
   * through `ctx.unit` so that it can be resumed.
   */
  protected abstract run<T extends Module<any, any, any>>(
    student: T,
    options: TOptions,
    ctx: CompileContext,
  ): Promise<CompileOutcome<T>>;

  /** Fingerprints of everything that determines the result; a checkpoint is only resumed when all of them match. */
  protected fingerprint(student: Module<any, any, any>, options: TOptions): Record<string, string> {
    const compileOptions = Object.fromEntries(Object.entries(options).filter(([key]) => !RUN_ONLY_OPTIONS.has(key)));
    return fingerprintParts({
      config: this.getParams(),
      student,
      teacher: options.teacher ?? null,
      trainset: options.trainset,
      valset: options.valset ?? null,
      options: compileOptions,
    });
  }
}

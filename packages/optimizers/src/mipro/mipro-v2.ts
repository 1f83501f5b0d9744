import {
  context,
  type Demo,
  type Example,
  getSetting,
  type LanguageModelV1,
  type Metric,
  type Module,
  type Settings,
} from '@dspy-ts/core';
import { estimateBootstrap } from '../bootstrap-few-shot.ts';
import type { CompileContext } from '../compile-context.ts';
import { evaluateCandidate } from '../evaluate-candidate.ts';
import { unjournalModuleLMs } from '../journaled-lm.ts';
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
import { TPESampler } from '../tpe/tpe-sampler.ts';
import {
  AUTO_RUN_SETTINGS,
  type AutoRunMode,
  fullEvalCount,
  MIN_MINIBATCH_SIZE,
  numTrialsFromNumCandidates,
} from './auto-run-settings.ts';
import { errorMessage } from './call-prompt-model.ts';
import { datasetSummaryCalls } from './dataset-summary.ts';
import { createNFewshotDemoSets, planDemoSets } from './demo-candidates.ts';
import { GroundedProposer, type InstructionProposal } from './grounded-proposer.ts';

/** Bootstrapped demos made for the proposer when the program is optimized zero-shot (DSPy's constant). */
const BOOTSTRAPPED_FEWSHOT_EXAMPLES_IN_CONTEXT = 3;
/** Labeled demos made for the proposer when the program is optimized zero-shot (DSPy's constant). */
const LABELED_FEWSHOT_EXAMPLES_IN_CONTEXT = 0;

/** Options of {@link MIPROv2} (DSPy's keyword arguments, camelCased). */
export interface MIPROv2Options {
  /** Scores candidates (`metric(example, prediction)`) and judges bootstrap traces (with the trace). */
  metric: Metric;
  /** The LM that summarizes the data and proposes instructions. Default: the configured LM. */
  promptModel?: LanguageModelV1;
  /** The LM the program runs on while bootstrapping and evaluating. Default: the configured LM. */
  taskModel?: LanguageModelV1;
  /** Settings the bootstrap teacher runs under. */
  teacherSettings?: Partial<Settings>;
  /** Upper bound of bootstrapped demos per demo set. Default 4. */
  maxBootstrappedDemos?: number;
  /** Labeled demos per demo set. Default 4. */
  maxLabeledDemos?: number;
  /**
   * A budget from {@link AUTO_RUN_SETTINGS} (`light`, the default, `medium`, `heavy`) that sets the number of
   * candidates, trials and the validation-set size; `null` to set `numCandidates` and `numTrials` yourself.
   */
  auto?: AutoRunMode | null;
  /** Instruction and demo-set candidates per predictor; only with `auto: null`. */
  numCandidates?: number;
  /** Examples evaluated at the same time. Default: the `numThreads` setting. */
  numThreads?: number;
  /** Errors tolerated while bootstrapping or evaluating. Default: the `maxErrors` setting. */
  maxErrors?: number;
  /** Seed of every random choice (demo sets, tips, minibatches, the TPE search). Default 9. */
  seed?: number;
  /** Temperature of the instruction proposals. Default 1. */
  initTemperature?: number;
  /** Minimum metric value for a bootstrap trace to be kept. */
  metricThreshold?: number;
}

/** Compile options of {@link MIPROv2} (DSPy's `compile` keyword arguments, camelCased). */
export interface MIPROv2CompileOptions extends CompileOptions {
  /** Search trials; required with `auto: null`, not allowed otherwise. */
  numTrials?: number;
  /** Overrides the optimizer's `maxBootstrappedDemos` for this compile. */
  maxBootstrappedDemos?: number;
  /** Overrides the optimizer's `maxLabeledDemos` for this compile. */
  maxLabeledDemos?: number;
  /** Overrides the optimizer's `seed` for this compile. */
  seed?: number;
  /** Score trials on random minibatches of the valset (with periodic full evaluations). Default true. */
  minibatch?: boolean;
  /** Examples per minibatch. Default 35. */
  minibatchSize?: number;
  /** Minibatch trials between two full evaluations of the best-averaging combination. Default 5. */
  minibatchFullEvalSteps?: number;
  /** Describe the program to the prompt model. Default true. */
  programAwareProposer?: boolean;
  /** Summarize the trainset for the prompt model. Default true. */
  dataAwareProposer?: boolean;
  /** Examples per dataset-summary call. Default 10. */
  viewDataBatchSize?: number;
  /** Add a random prompting tip to every proposal. Default true. */
  tipAwareProposer?: boolean;
  /** Show bootstrapped demos to the prompt model. Default true. */
  fewshotAwareProposer?: boolean;
}

/** One entry of MIPROv2's `trialLogs`, keyed by DSPy's trial number (1 = the baseline). */
export interface MIPROTrialLog {
  /** The chosen candidate indices, e.g. `{ '0_predictor_instruction': 2, '0_predictor_demos': 1 }`. */
  params: Record<string, number>;
  /** Score on the trial's minibatch (minibatch trials). */
  mbScore?: number;
  /** The program scored on the minibatch. */
  mbProgram?: Module<any, any, any>;
  /** Score on the full valset (the baseline, full evaluations, and every trial without minibatches). */
  fullEvalScore?: number;
  /** The program scored on the full valset. */
  fullEvalProgram?: Module<any, any, any>;
  /** Examples evaluated so far, this trial included. */
  totalEvalCallsSoFar: number;
}

/** A scored program of MIPROv2 (`candidatePrograms` holds the full evaluations, `mbCandidatePrograms` the rest). */
export interface MIPROCandidate<T = Module<any, any, any>> extends CandidateProgram<T> {
  /** The chosen candidate indices. */
  params: Record<string, number>;
  /** True when scored on the whole valset. */
  fullEval: boolean;
}

/** What MIPROv2 attaches to its result besides the {@link CompileReport}. */
export interface MIPROv2Result<T> {
  /** The returned program's full-valset score. */
  readonly score: number;
  /** Every trial, keyed by DSPy's trial number. */
  readonly trialLogs: Record<number, MIPROTrialLog>;
  /** Minibatch-scored candidates, best first. */
  readonly mbCandidatePrograms: MIPROCandidate<T>[];
  /** The instruction candidates, per predictor (entry 0 is the original instruction). */
  readonly instructionCandidates: string[][];
  /** The demo sets, per predictor (`null` when the program is optimized zero-shot). */
  readonly demoCandidates: Demo[][][] | null;
}

/** A program compiled by {@link MIPROv2}. */
export type MIPROv2Compiled<T> = Compiled<T> & MIPROv2Result<T>;

const results = new WeakMap<object, MIPROv2Result<any>>();

function attachResult<T extends object>(program: T, result: MIPROv2Result<T>): void {
  results.set(program, result);
  // Accessors (not values) so that a `deepCopy` of the result does not pretend to be it.
  for (const key of ['score', 'trialLogs', 'mbCandidatePrograms', 'instructionCandidates', 'demoCandidates'] as const) {
    Object.defineProperty(program, key, {
      get(this: object) {
        return results.get(this)?.[key];
      },
      enumerable: false,
      configurable: true,
    });
  }
}

/** The numbers a compile runs with, resolved from the options, `auto` and the data. */
interface Plan {
  trainset: readonly Example[];
  valset: readonly Example[];
  numTrials: number;
  minibatch: boolean;
  numFewshotCandidates: number;
  numInstructCandidates: number;
  zeroShot: boolean;
  maxBootstrappedDemos: number;
  maxLabeledDemos: number;
  seed: number;
  rng: SeededRandom;
}

/**
 * DSPy's `MIPROv2`: jointly optimizes every predictor's instruction and demos.
 *
 * 1. **Demo sets**: `n` candidate demo sets per predictor — zero-shot, labeled only, an unshuffled bootstrap, then
 *    shuffled bootstraps of random size (BootstrapFewShot on the task model).
 * 2. **Instructions**: a {@link GroundedProposer} writes instruction candidates per predictor from a dataset
 *    summary, the program's description, bootstrapped demos and a random tip; candidate 0 is the original
 *    instruction.
 * 3. **Search**: a multivariate {@link TPESampler} picks an instruction and a demo set per predictor for every trial,
 *    seeded with the baseline program's full-valset score. Trials are scored on random minibatches of
 *    `minibatchSize`; every `minibatchFullEvalSteps` trials and after the last one, the combination with the best
 *    mean minibatch score that has not been fully evaluated is scored on the whole valset and told to the search.
 *
 * Returns the best fully evaluated program with `score`, `candidatePrograms` (full evaluations, best first),
 * `mbCandidatePrograms`, `trialLogs`, and the usual `compileReport`. `auto` (default `light`) sets the budget as
 * DSPy's `AUTO_RUN_SETTINGS` do. Without a valset, the last 80 % of the trainset (at most 1000) is held out.
 *
 * Random draws come from this package's seeded generator, so for the same seed the demo sets, tips and minibatches
 * differ from DSPy's (CPython's `random` and Optuna's NumPy generator); the distributions are the same.
 *
 * @example
 * ```ts
 * const mipro = new MIPROv2({ metric, promptModel, auto: 'light' });
 * console.log(mipro.estimate(program, { trainset }).maxLmCalls);
 * const compiled = await mipro.compile(program, { trainset, checkpoint: 'mipro.ckpt.json' });
 * compiled.score; // full-valset score of the returned program
 * ```
 */
export class MIPROv2 extends Teleprompter<MIPROv2CompileOptions> {
  /** The optimizer's name. */
  readonly name = 'MIPROv2';
  /** The options, with defaults applied. */
  readonly options: Required<
    Pick<
      MIPROv2Options,
      'metric' | 'maxBootstrappedDemos' | 'maxLabeledDemos' | 'seed' | 'initTemperature' | 'teacherSettings'
    >
  > &
    Omit<MIPROv2Options, 'auto'> & { auto: AutoRunMode | null };

  /** @throws {OptimizerError} for a missing metric or an unknown `auto`. */
  constructor(options: MIPROv2Options) {
    super();
    if (typeof options?.metric !== 'function') throw new OptimizerError('MIPROv2 needs a metric to score candidates.');
    const auto = options.auto === undefined ? 'light' : options.auto;
    if (auto !== null && !Object.hasOwn(AUTO_RUN_SETTINGS, auto)) {
      throw new OptimizerError(`Invalid value for auto: ${String(auto)}. Must be one of light, medium, heavy or null.`);
    }
    this.options = {
      maxBootstrappedDemos: 4,
      maxLabeledDemos: 4,
      seed: 9,
      initTemperature: 1,
      teacherSettings: {},
      ...options,
      auto,
    };
  }

  /** Compiles `student`; the result also carries MIPROv2's `score`, `trialLogs` and `mbCandidatePrograms`. */
  override async compile<T extends Module<any, any, any>>(
    student: T,
    options: MIPROv2CompileOptions,
  ): Promise<MIPROv2Compiled<T>> {
    return (await super.compile(student, options)) as MIPROv2Compiled<T>;
  }

  /**
   * Resolves the run's numbers as DSPy does: option checks, the valset split, `auto`'s valset subsample, candidate
   * counts, trial count and whether to use minibatches. Draws the valset subsample from the returned generator.
   *
   * @throws {OptimizerError} for inconsistent `auto` / `numCandidates` / `numTrials`, or too little data.
   */
  private plan(student: Module<any, any, any>, options: MIPROv2CompileOptions): Plan {
    const o = this.options;
    const maxBootstrappedDemos = options.maxBootstrappedDemos ?? o.maxBootstrappedDemos;
    const maxLabeledDemos = options.maxLabeledDemos ?? o.maxLabeledDemos;
    const zeroShot = maxBootstrappedDemos === 0 && maxLabeledDemos === 0;
    const numPredictors = student.predictors().length;
    if (o.auto === null && o.numCandidates !== undefined && options.numTrials === undefined) {
      throw new OptimizerError(
        `If auto is null, numTrials must also be provided. Given numCandidates=${o.numCandidates}, we'd recommend ` +
          `setting numTrials to ~${numTrialsFromNumCandidates(numPredictors, zeroShot, o.numCandidates)}.`,
      );
    }
    if (o.auto === null && (o.numCandidates === undefined || options.numTrials === undefined)) {
      throw new OptimizerError('If auto is null, numCandidates must also be provided (and numTrials to compile).');
    }
    if (o.auto !== null && (o.numCandidates !== undefined || options.numTrials !== undefined)) {
      throw new OptimizerError(
        'If auto is not null, numCandidates and numTrials cannot be set, since they would be overridden by the auto ' +
          'settings. Please either set auto to null, or do not specify numCandidates and numTrials.',
      );
    }
    const steps = options.minibatchFullEvalSteps ?? 5;
    if (!Number.isInteger(steps) || steps < 1) {
      throw new OptimizerError(`minibatchFullEvalSteps must be a positive integer, got ${steps}.`);
    }
    if (options.trainset.length === 0) throw new OptimizerError('Trainset cannot be empty.');
    let trainset = options.trainset;
    let valset: readonly Example[];
    if (options.valset === undefined) {
      if (trainset.length < 2) {
        throw new OptimizerError('Trainset must have at least 2 examples if no valset specified.');
      }
      const valsetSize = Math.min(1000, Math.max(1, Math.trunc(trainset.length * 0.8)));
      const cutoff = trainset.length - valsetSize;
      valset = trainset.slice(cutoff);
      trainset = trainset.slice(0, cutoff);
    } else {
      if (options.valset.length < 1) throw new OptimizerError('Validation set must have at least 1 example.');
      valset = options.valset;
    }

    const seed = options.seed ?? o.seed;
    const rng = new SeededRandom(seed);
    let numTrials = options.numTrials as number;
    let minibatch = options.minibatch ?? true;
    let numFewshotCandidates = o.numCandidates as number;
    let numInstructCandidates = o.numCandidates as number;
    if (o.auto !== null) {
      const auto = AUTO_RUN_SETTINGS[o.auto];
      const indices = rng.sample(
        Array.from({ length: valset.length }, (_, i) => i),
        Math.min(auto.valSize, valset.length),
      );
      const all = valset;
      valset = indices.map((i) => all[i] as Example);
      minibatch = valset.length > MIN_MINIBATCH_SIZE;
      numInstructCandidates = zeroShot ? auto.n : Math.trunc(auto.n * 0.5);
      numFewshotCandidates = auto.n;
      numTrials = numTrialsFromNumCandidates(numPredictors, zeroShot, auto.n);
    }
    const minibatchSize = options.minibatchSize ?? 35;
    if (minibatch && minibatchSize > valset.length) {
      throw new OptimizerError(`Minibatch size cannot exceed the size of the valset. Valset size: ${valset.length}.`);
    }
    return {
      trainset,
      valset,
      numTrials,
      minibatch,
      numFewshotCandidates,
      numInstructCandidates,
      zeroShot,
      maxBootstrappedDemos,
      maxLabeledDemos,
      seed,
      rng,
    };
  }

  protected override async run<T extends Module<any, any, any>>(
    student: T,
    options: MIPROv2CompileOptions,
    ctx: CompileContext,
  ): Promise<CompileOutcome<T>> {
    const o = this.options;
    const plan = this.plan(student, options);
    const configured = getSetting('lm');
    const taskModel = o.taskModel ? ctx.lm(o.taskModel) : configured;
    const promptModel = ctx.lm(o.promptModel ?? configured);
    if (!taskModel || !promptModel) {
      throw new OptimizerError(
        'MIPROv2 needs a prompt model and a task model: pass promptModel and taskModel, or configure an LM with ' +
          '`configure({ lm })`.',
      );
    }
    const maxErrors = o.maxErrors ?? getSetting('maxErrors');
    const program = student.deepCopy();
    ctx.journalProgram(program);

    // Step 1: demo sets, made on the task model.
    const { sets } = await context({ lm: taskModel }, () =>
      createNFewshotDemoSets(
        {
          student: program,
          numCandidateSets: plan.numFewshotCandidates,
          trainset: plan.trainset,
          maxLabeledDemos: plan.zeroShot ? LABELED_FEWSHOT_EXAMPLES_IN_CONTEXT : plan.maxLabeledDemos,
          maxBootstrappedDemos: plan.zeroShot ? BOOTSTRAPPED_FEWSHOT_EXAMPLES_IN_CONTEXT : plan.maxBootstrappedDemos,
          metric: o.metric,
          teacherSettings: o.teacherSettings,
          maxErrors,
          metricThreshold: o.metricThreshold,
          teacher: options.teacher,
          rng: plan.rng,
        },
        ctx,
      ),
    );

    // Step 2: instruction candidates.
    const proposals = await this.proposeInstructions(program, plan, sets, promptModel, options, ctx);
    const instructionCandidates = proposals.map((own) => own.map((proposal) => proposal.instruction));
    const demoCandidates = plan.zeroShot ? null : sets;

    // Step 3: the search, on the task model.
    const outcome = await context({ lm: taskModel }, () =>
      this.search(program, plan, instructionCandidates, demoCandidates, options, maxErrors, ctx),
    );
    attachResult(outcome.program, {
      score: outcome.score,
      trialLogs: outcome.trialLogs,
      mbCandidatePrograms: outcome.mbCandidatePrograms,
      instructionCandidates,
      demoCandidates,
    });
    return { program: outcome.program, score: outcome.score, candidatePrograms: outcome.candidatePrograms };
  }

  private async proposeInstructions(
    program: Module<any, any, any>,
    plan: Plan,
    sets: Demo[][][],
    promptModel: LanguageModelV1,
    options: MIPROv2CompileOptions,
    ctx: CompileContext,
  ): Promise<InstructionProposal[][]> {
    const numDemoSets = Math.max(sets[0]?.length ?? 0, 1);
    if (Math.min(plan.numInstructCandidates, numDemoSets) <= 1) {
      // Only the original instruction would be kept: no need to summarize the data or describe the program.
      return program.predictors().map((p) => [{ instruction: p.signature.instructions }]);
    }
    const proposer = await GroundedProposer.create(
      {
        promptModel,
        program,
        trainset: plan.trainset,
        rng: plan.rng,
        viewDataBatchSize: options.viewDataBatchSize ?? 10,
        programAware: options.programAwareProposer ?? true,
        useDatasetSummary: options.dataAwareProposer ?? true,
        useTaskDemos: options.fewshotAwareProposer ?? true,
        numDemosInContext: BOOTSTRAPPED_FEWSHOT_EXAMPLES_IN_CONTEXT,
        useTip: options.tipAwareProposer ?? true,
        initTemperature: this.options.initTemperature,
      },
      ctx,
    );
    return proposer.proposeInstructionsForProgram(sets, plan.numInstructCandidates, ctx, true);
  }

  /** DSPy's `_optimize_prompt_parameters`, with the TPE search implemented in {@link TPESampler}. */
  private async search<T extends Module<any, any, any>>(
    program: T,
    plan: Plan,
    instructionCandidates: string[][],
    demoCandidates: Demo[][][] | null,
    options: MIPROv2CompileOptions,
    maxErrors: number,
    ctx: CompileContext,
  ): Promise<{
    program: T;
    score: number;
    candidatePrograms: MIPROCandidate<T>[];
    mbCandidatePrograms: MIPROCandidate<T>[];
    trialLogs: Record<number, MIPROTrialLog>;
  }> {
    const { valset, numTrials, minibatch, rng } = plan;
    const minibatchSize = options.minibatchSize ?? 35;
    const steps = options.minibatchFullEvalSteps ?? 5;
    const evalOptions = {
      maxErrors,
      ...(this.options.numThreads === undefined ? {} : { numThreads: this.options.numThreads }),
    };
    const evaluate = async (candidate: Module<any, any, any>, devset: readonly Example[], key: string) => {
      // DSPy's `eval_candidate_program`: an evaluation that fails as a whole scores 0. The failure is recorded so a
      // resumed compile does not run it again.
      const failed = `${key}/failed`;
      if (ctx.checkpoint.has(`${ctx.prefix}${failed}`)) return { score: 0, subscores: [] as (number | boolean)[] };
      try {
        return await evaluateCandidate(candidate, devset, this.options.metric, ctx, key, evalOptions);
      } catch (error) {
        ctx.throwIfAborted();
        console.error(`An exception occurred during evaluation: ${errorMessage(error)}`);
        await ctx.unit(failed, async () => errorMessage(error));
        return { score: 0, subscores: [] as (number | boolean)[] };
      }
    };

    const space: Record<string, number[]> = {};
    for (const [i, candidates] of instructionCandidates.entries()) {
      space[`${i}_predictor_instruction`] = candidates.map((_, j) => j);
      if (demoCandidates) space[`${i}_predictor_demos`] = (demoCandidates[i] ?? []).map((_, j) => j);
    }
    const sampler = new TPESampler(space, { seed: plan.seed, multivariate: true });
    const build = (params: Record<string, number>): T => {
      const candidate = program.deepCopy();
      for (const [i, predictor] of candidate.predictors().entries()) {
        const instruction = instructionCandidates[i]?.[params[`${i}_predictor_instruction`] ?? 0];
        if (instruction !== undefined) predictor.signature = predictor.signature.withInstructions(instruction);
        if (demoCandidates) predictor.demos = [...(demoCandidates[i]?.[params[`${i}_predictor_demos`] ?? 0] ?? [])];
      }
      return candidate;
    };
    const describe = (params: Record<string, number>) =>
      instructionCandidates
        .flatMap((_, i) => [
          `Predictor ${i}: Instruction ${params[`${i}_predictor_instruction`]}`,
          ...(demoCandidates ? [`Predictor ${i}: Few-Shot Set ${params[`${i}_predictor_demos`]}`] : []),
        ])
        .join(',');

    const fullEvals = minibatch ? fullEvalCount(numTrials, steps) : 0;
    ctx.startLoop(1 + numTrials + fullEvals, 'trials');

    // The baseline: every parameter at index 0 (the original instruction, the zero-shot demo set).
    const defaultParams = Object.fromEntries(Object.keys(space).map((name) => [name, 0]));
    const baseline = await evaluate(program, valset, 'eval/baseline');
    let bestScore = baseline.score;
    let best: T = program.deepCopy();
    let totalEvalCalls = valset.length;
    const trialLogs: Record<number, MIPROTrialLog> = {
      1: {
        params: defaultParams,
        fullEvalScore: baseline.score,
        fullEvalProgram: program.deepCopy(),
        totalEvalCallsSoFar: totalEvalCalls,
      },
    };
    const scoreData: MIPROCandidate<T>[] = [
      {
        score: baseline.score,
        program: program.deepCopy(),
        subscores: baseline.subscores,
        params: defaultParams,
        fullEval: true,
      },
    ];
    sampler.addTrial({ params: defaultParams, value: baseline.score });
    ctx.advance('evaluate', { bestScore, label: 'baseline' });

    const paramScores = new Map<string, { score: number; program: T; params: Record<string, number> }[]>();
    const fullyEvaluated = new Set<string>();

    const fullEvaluation = async (trialNum: number) => {
      // DSPy's `get_program_with_highest_avg_score`: the best mean minibatch score not yet fully evaluated (the
      // last-ranked combination when all are).
      const ranked = [...paramScores.entries()]
        .map(([key, values]) => ({
          key,
          mean: values.reduce((sum, v) => sum + v.score, 0) / values.length,
          first: values[0] as { score: number; program: T; params: Record<string, number> },
        }))
        .sort((a, b) => b.mean - a.mean);
      const chosen =
        ranked.find((entry) => !fullyEvaluated.has(entry.key)) ?? (ranked.at(-1) as (typeof ranked)[number]);
      const { program: candidate, params } = chosen.first;
      const result = await evaluate(candidate, valset, `eval/full/${trialNum + 1}`);
      scoreData.push({ score: result.score, program: candidate, subscores: result.subscores, params, fullEval: true });
      sampler.addTrial({ params, value: result.score });
      fullyEvaluated.add(chosen.key);
      totalEvalCalls += valset.length;
      trialLogs[trialNum + 1] = {
        params,
        fullEvalScore: result.score,
        fullEvalProgram: candidate,
        totalEvalCallsSoFar: totalEvalCalls,
      };
      if (result.score > bestScore) {
        bestScore = result.score;
        best = candidate.deepCopy();
      }
      ctx.advance('evaluate', { bestScore, label: `full evaluation ${fullyEvaluated.size}` });
    };

    for (let k = 1; k <= numTrials; k++) {
      const trial = sampler.ask();
      const trialNum = trial.number + 1;
      const params = trial.params as Record<string, number>;
      const candidate = build(params);
      const batchSize = minibatch ? minibatchSize : valset.length;
      const full = batchSize >= valset.length;
      const devset = full
        ? valset
        : rng
            .sample(
              Array.from({ length: valset.length }, (_, i) => i),
              batchSize,
            )
            .map((i) => valset[i] as Example);
      const result = await evaluate(candidate, devset, `eval/trial/${trialNum}`);
      totalEvalCalls += batchSize;
      if (!minibatch && result.score > bestScore) {
        bestScore = result.score;
        best = candidate.deepCopy();
      }
      scoreData.push({ score: result.score, program: candidate, subscores: result.subscores, params, fullEval: full });
      trialLogs[trialNum] = minibatch
        ? { params, mbScore: result.score, mbProgram: candidate, totalEvalCallsSoFar: totalEvalCalls }
        : { params, fullEvalScore: result.score, fullEvalProgram: candidate, totalEvalCallsSoFar: totalEvalCalls };
      const key = describe(params);
      const entries = paramScores.get(key) ?? [];
      entries.push({ score: result.score, program: candidate, params });
      paramScores.set(key, entries);
      ctx.advance('evaluate', { bestScore, label: `trial ${trialNum}` });
      // As in Optuna, the full evaluation is added to the study before the trial that triggered it completes.
      if (minibatch && (k % steps === 0 || k === numTrials)) await fullEvaluation(trialNum);
      sampler.tell(trial, result.score);
    }

    // Stable sorts keep trial order among equal scores, as Python's `sorted`.
    const ranked = [...scoreData].sort((a, b) => b.score - a.score);
    for (const entry of ranked) unjournalModuleLMs(entry.program);
    unjournalModuleLMs(best);
    for (const log of Object.values(trialLogs)) {
      if (log.mbProgram) unjournalModuleLMs(log.mbProgram);
      if (log.fullEvalProgram) unjournalModuleLMs(log.fullEvalProgram);
    }
    return {
      program: best,
      score: bestScore,
      candidatePrograms: ranked.filter((entry) => entry.fullEval),
      mbCandidatePrograms: ranked.filter((entry) => !entry.fullEval),
      trialLogs,
    };
  }

  /**
   * Projects the LM calls: bootstrap runs per demo set (a range), the prompt model's summary, descriptions and
   * proposals, and the evaluations (exact given `callsPerRun`): the baseline, every trial, every full evaluation.
   *
   * @throws {OptimizerError} for the same inconsistent options `compile` rejects.
   */
  override estimate(
    student: Module<any, any, any>,
    options: EstimateOptions & Omit<MIPROv2CompileOptions, keyof CompileOptions>,
  ): CompileEstimate {
    const plan = this.plan(student, { ...options, trainset: options.trainset });
    const perRun = callsPerRun(student, options);
    const teacherPerRun = callsPerRun(options.teacher ?? student, options);
    const predictors = student.predictors().length;
    const demoPlans = planDemoSets({
      numCandidateSets: plan.numFewshotCandidates,
      trainSize: plan.trainset.length,
      maxLabeledDemos: plan.zeroShot ? LABELED_FEWSHOT_EXAMPLES_IN_CONTEXT : plan.maxLabeledDemos,
      maxBootstrappedDemos: plan.zeroShot ? BOOTSTRAPPED_FEWSHOT_EXAMPLES_IN_CONTEXT : plan.maxBootstrappedDemos,
      rng: plan.rng,
    });
    const steps: EstimateStep[] = [];
    for (const demoPlan of demoPlans) {
      if (demoPlan.kind !== 'bootstrap') continue;
      steps.push({
        step: `demo set ${demoPlan.seed}: bootstrap ${demoPlan.size} demo(s)`,
        ...estimateBootstrap(plan.trainset.length, demoPlan.size, 1, teacherPerRun),
      });
    }
    const instructions = Math.min(plan.numInstructCandidates, Math.max(demoPlans.length, 1));
    if (instructions > 1) {
      if (options.dataAwareProposer ?? true) {
        const [min, max] = datasetSummaryCalls(plan.trainset.length, options.viewDataBatchSize ?? 10);
        steps.push({ step: 'summarize the dataset (prompt model)', minLmCalls: min, maxLmCalls: max });
      }
      const perProposal = (options.programAwareProposer ?? true) ? 3 : 1;
      const calls = predictors * (instructions - 1) * perProposal;
      steps.push({ step: 'propose instructions (prompt model)', minLmCalls: calls, maxLmCalls: calls });
    }
    const valSize = plan.valset.length;
    const minibatchSize = options.minibatchSize ?? 35;
    const baseline = valSize * perRun;
    steps.push({ step: `evaluate the baseline on ${valSize} example(s)`, minLmCalls: baseline, maxLmCalls: baseline });
    const trialExamples = plan.minibatch ? Math.min(minibatchSize, valSize) : valSize;
    const trials = plan.numTrials * trialExamples * perRun;
    steps.push({
      step: `${plan.numTrials} trial(s) on ${trialExamples} example(s)`,
      minLmCalls: trials,
      maxLmCalls: trials,
    });
    if (plan.minibatch) {
      const full = fullEvalCount(plan.numTrials, options.minibatchFullEvalSteps ?? 5) * valSize * perRun;
      steps.push({ step: 'full evaluations of the best minibatch combinations', minLmCalls: full, maxLmCalls: full });
    }
    return makeEstimate(this.name, steps, [
      `${perRun} LM call(s) per program run`,
      'program-aware proposals take 3 prompt-model calls (describe program, describe module, generate)',
      'no failed proposals or evaluations and no cache hits',
    ]);
  }
}
